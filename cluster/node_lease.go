package cluster

import (
	"context"
	"errors"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// errLeaseLost is returned by keepAlive when etcd no longer knows the lease.
var errLeaseLost = errors.New("cluster: lease expired")

// errNameTaken is returned by tryRegister when another lease holds this node's name.
var errNameTaken = errors.New("cluster: node name registered by another lease")

// keepAliveInterval is the time between keepalives, and the longest one waits for its
// answer: a third of lease_ttl - fence_margin, the time an answered keepalive keeps the
// lease fenced (leaseDeadline). After a keepalive sent at s is answered, the two sent at
// s+interval and s+2*interval each get a whole interval before the deadline s+3*interval:
// one keepalive lost or late never puts the lease in doubt. With lease_ttl/3, as before, the
// second one had lease_ttl/3 - fence_margin (167 ms of a 2 s lease with a 500 ms margin), so
// one keepalive slower than the interval and the next slower than that sent a busy node in
// doubt with no outage ("doubt flicker"), and its recordings became segments in doubt.
// Safety does not depend on the cadence: see leaseDeadline.
func (n *Node) keepAliveInterval() time.Duration { return (n.cfg.LeaseTTL - n.cfg.FenceMargin) / 3 }

// register grants a lease and registers the node under it, again every RetryInterval until
// it succeeds or ctx is done.
func (n *Node) register(ctx context.Context) (clientv3.LeaseID, error) {
	loggedTaken := false
	for {
		lease, err := n.tryRegister(ctx)
		switch {
		case err == nil:
			return lease, nil
		case errors.Is(err, errNameTaken):
			if !loggedTaken {
				n.log.Warn("node name registered by another lease (a previous run of this node, or a duplicate name); waiting for it to expire")
				loggedTaken = true
			}
		case ctx.Err() == nil:
			n.unreachableErr(err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(n.cfg.RetryInterval):
		}
	}
}

// tryRegister grants a lease and creates the node key under it, if no other lease holds
// it.
func (n *Node) tryRegister(ctx context.Context) (clientv3.LeaseID, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	sent := time.Now()
	g, err := n.client.Grant(ctx, int64(math.Ceil(n.cfg.LeaseTTL.Seconds())))
	if err != nil {
		return 0, err
	}
	self, _ := encodeMember(n.cfg, time.Now())
	resp, err := n.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(n.nodeKey), "=", 0)).
		Then(clientv3.OpPut(n.nodeKey, string(self), clientv3.WithLease(g.ID))).
		Commit()
	if err == nil && !resp.Succeeded {
		err = errNameTaken
	}
	if err != nil {
		_, _ = n.client.Revoke(ctx, g.ID) // unused; it would expire anyway
		return 0, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lease = g.ID
	n.deadline = n.leaseDeadline(sent, g.TTL)
	n.transitionLocked(leaseRegistered)
	n.reachableLocked()
	n.emitLocked(Event{Kind: EventRegistered})
	n.log.Info("registered", "lease_ttl", time.Duration(g.TTL)*time.Second, "revision", resp.Header.Revision)
	return g.ID, nil
}

// leaseDeadline is the local deadline of a lease whose keepalive (or grant) sent at sent
// was answered with ttl seconds: etcd started the TTL when it received the request, after
// sent, so it cannot expire the lease before sent+ttl; fence_margin is kept in hand.
//
// The rule of the fence: a node writes under a positive revision only before the deadline
// of its last answered keepalive, measured from that keepalive's send time, never from its
// answer's arrival, so neither a slow answer nor a paused node can stretch it past the
// moment etcd could expire the lease. How often keepalives go (keepAliveInterval) only
// decides how often a node falls in doubt, never whether the fence holds.
func (n *Node) leaseDeadline(sent time.Time, ttl int64) time.Time {
	return sent.Add(time.Duration(ttl)*time.Second - n.cfg.FenceMargin)
}

// keepAlive keeps lease alive until ctx is done (nil) or etcd says the lease is gone
// (errLeaseLost). Each keepalive is one request bounded by the smaller of request_timeout
// and the interval, so that its answer (or failure) is known before the next one is due.
func (n *Node) keepAlive(ctx context.Context, lease clientv3.LeaseID) error {
	interval := n.keepAliveInterval()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	doubt := time.NewTimer(time.Until(n.deadlineNow()))
	defer doubt.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-doubt.C:
			n.checkDoubt()
			continue
		case <-tick.C:
		}
		sent := time.Now()
		kctx, cancel := context.WithTimeout(ctx, min(n.cfg.RequestTimeout, interval))
		resp, err := n.client.KeepAliveOnce(kctx, lease)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			n.log.Warn("lease expired in etcd")
			return errLeaseLost
		case ctx.Err() != nil:
			return nil
		case err != nil:
			n.unreachableErr(err)
			n.checkDoubt()
			continue
		}
		if n.State() == StateInDoubt {
			if err := n.confirm(ctx); err != nil {
				n.unreachableErr(err)
				continue
			}
		}
		n.renewed(sent, resp.TTL)
		doubt.Reset(time.Until(n.deadlineNow()))
	}
}

func (n *Node) deadlineNow() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.deadline
}

// checkDoubt moves a live lease whose deadline has passed to StateInDoubt, once.
func (n *Node) checkDoubt() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stateLocked() != StateInDoubt {
		return
	}
	if _, ok := n.transitionLocked(leaseDeadline); !ok {
		return // already in doubt
	}
	n.emitLocked(Event{Kind: EventInDoubt})
	n.log.Warn("lease in doubt: no keepalive answer before the local deadline; recording goes on, nothing is committed under the fencing revisions",
		"cameras", len(n.owned))
}

// confirm checks, after a doubt, that every owned camera's owner key still holds its
// revision; the cameras taken over meanwhile are lost.
func (n *Node) confirm(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	resp, err := n.client.Get(ctx, n.cfg.Prefix+ownersDir, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	current := make(map[string]int64, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if _, camera, ok := splitKey(n.cfg.Prefix, string(kv.Key)); ok {
			current[camera] = kv.ModRevision
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for camera, rev := range n.owned {
		if current[camera] != rev && resp.Header.Revision > rev {
			n.loseLocked(camera, "taken over while in doubt")
		}
	}
	return nil
}

// renewed records a keepalive sent at sent and answered with ttl seconds.
func (n *Node) renewed(sent time.Time, ttl int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.deadline = n.leaseDeadline(sent, ttl)
	n.reachableLocked()
	if from, ok := n.transitionLocked(leaseAnswered); ok && from == StateInDoubt {
		n.emitLocked(Event{Kind: EventConfirmed})
		n.log.Info("lease confirmed: the cameras kept are fenced again", "cameras", len(n.owned))
	}
}

// unreachableErr logs the first failure to reach etcd of an outage.
func (n *Node) unreachableErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.unreachable {
		n.unreachable = true
		n.log.Warn("etcd unreachable", "err", err)
	}
}

// reachableLocked logs the end of an outage. n.mu is held.
func (n *Node) reachableLocked() {
	if n.unreachable {
		n.unreachable = false
		n.log.Info("etcd reachable again")
	}
}
