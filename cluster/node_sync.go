package cluster

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxConcurrentClaims bounds the claims and releases of pulled cameras in flight at once:
// etcd commits concurrent proposals together, so a survivor takes a dead node's hundreds of
// cameras in a few disk syncs rather than one each.
const maxConcurrentClaims = 32

// sync keeps the members and owners views up to date from etcd (a read of everything
// under the prefix, then a watch from its revision, read again whenever the watch fails)
// and reconciles the pulled cameras after every change, and every keepalive interval to
// retry what failed, until ctx is done.
func (n *Node) sync(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := n.resync(ctx)
		if err != nil {
			if ctx.Err() == nil {
				n.unreachableErr(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(n.cfg.RetryInterval):
			}
			continue
		}
		n.reconcile(ctx)
		n.watch(ctx, rev)
	}
}

// resync reads every member and owner and replaces the views with them; it returns the
// revision read at.
func (n *Node) resync(ctx context.Context) (int64, error) {
	rctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	resp, err := n.client.Get(rctx, n.cfg.Prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.members)
	clear(n.owners)
	n.seen = resp.Header.Revision
	for _, kv := range resp.Kvs {
		n.putLocked(kv)
	}
	for camera, rev := range n.owned {
		if n.owners[camera].Revision != rev && resp.Header.Revision > rev {
			n.loseLocked(camera, "owner changed")
		}
	}
	return resp.Header.Revision, nil
}

// watch applies the changes under the prefix after rev until the watch fails or ctx is
// done. It reconciles after each change and every keepalive interval.
func (n *Node) watch(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := n.client.Watch(wctx, n.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	tick := time.NewTicker(n.keepAliveInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case resp, ok := <-wch:
			if !ok || resp.Canceled || resp.Err() != nil {
				if ctx.Err() == nil {
					n.log.Debug("watch ended; reading again", "err", resp.Err())
				}
				return
			}
			n.apply(resp.Events)
		}
		n.reconcile(ctx)
	}
}

// apply applies watch events to the views; an owned camera whose key changed after its
// claim is lost. Events come in revision order, all of a revision together.
func (n *Node) apply(events []*clientv3.Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ev := range events {
		n.seen = max(n.seen, ev.Kv.ModRevision)
		if ev.Type == mvccpb.PUT {
			n.putLocked(ev.Kv)
			continue
		}
		dir, name, ok := splitKey(n.cfg.Prefix, string(ev.Kv.Key))
		if !ok {
			continue
		}
		if dir == nodesDir {
			delete(n.members, name)
			continue
		}
		delete(n.owners, name)
		if rev, owned := n.owned[name]; owned && ev.Kv.ModRevision > rev {
			n.loseLocked(name, "owner key deleted")
		}
	}
}

// putLocked applies a node or owner key's value. n.mu is held.
func (n *Node) putLocked(kv *mvccpb.KeyValue) {
	dir, name, ok := splitKey(n.cfg.Prefix, string(kv.Key))
	if !ok {
		return
	}
	if dir == nodesDir {
		m, err := decodeMember(name, kv.Value)
		if err != nil {
			n.log.Warn("bad node record; ignored", "member", name, "err", err)
			delete(n.members, name)
			return
		}
		n.members[name] = m
		return
	}
	o, err := decodeOwner(kv.Value, kv.ModRevision)
	if err != nil {
		n.log.Warn("bad owner record; the camera counts as owned by an unknown node", "camera", name, "err", err)
		o = Owner{Node: "?", Revision: kv.ModRevision}
	}
	n.owners[name] = o
	if rev, owned := n.owned[name]; owned && kv.ModRevision > rev {
		n.loseLocked(name, "taken over by "+o.Node)
	}
}

// reconcile claims the pulled cameras assigned to this node that are free, releases the
// ones it owns that are assigned elsewhere (their new owner claims them when it sees the
// key deleted), and retries the deletions that failed. Nothing is claimed or released
// unless the lease is live.
func (n *Node) reconcile(ctx context.Context) {
	lease, done, ok := n.begin(true)
	if !ok {
		return
	}
	defer done()
	claim, release, retry := n.plan()
	for c, rev := range retry {
		_ = n.deleteOwner(ctx, c, rev) // still in unreleased: retried next time
	}
	sem := make(chan struct{}, maxConcurrentClaims)
	var wg sync.WaitGroup
	parallel := func(f func()) {
		sem <- struct{}{}
		wg.Go(func() { defer func() { <-sem }(); f() })
	}
	for _, c := range release {
		parallel(func() {
			if f := n.cfg.BeforeRelease; f != nil {
				bctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
				f(bctx, c)
				cancel()
			}
			if err := n.Release(ctx, c); err != nil {
				n.log.Debug("release of a camera assigned elsewhere failed; retried", "camera", c, "err", err)
			}
		})
	}
	for _, c := range claim {
		parallel(func() {
			_, err := n.claim(ctx, c, lease)
			var owned *OwnedError
			if err != nil && !errors.As(err, &owned) {
				n.log.Debug("claim of an assigned camera failed; retried", "camera", c, "err", err)
			}
		})
	}
	wg.Wait()
}

// plan returns the pulled cameras to claim and to release, and the failed deletions to
// retry. n.mu is taken.
func (n *Node) plan() (claim, release []string, retry map[string]int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.members[n.cfg.Node]; !ok {
		// Not (yet, or any more) in its own view of the members: assigning without itself
		// would release everything it owns.
		return nil, nil, maps.Clone(n.unreleased)
	}
	assigned := Assign(n.cfg.Pulled, slices.Collect(maps.Values(n.members)))
	for _, c := range n.cfg.Pulled {
		_, have := n.owned[c]
		_, taken := n.owners[c]
		mine := assigned[c] == n.cfg.Node
		switch {
		case mine && !have && !taken:
			claim = append(claim, c)
		case !mine && have:
			release = append(release, c)
		}
	}
	return claim, release, maps.Clone(n.unreleased)
}
