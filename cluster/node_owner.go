package cluster

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ownerKey is the key of camera's owner.
func (n *Node) ownerKey(camera string) string { return n.cfg.Prefix + ownersDir + camera }

// begin starts a Claim, Takeover or Release call: it returns the lease to claim under,
// and done, which the caller calls when finished. ok is false when the node cannot claim
// (not live, or stopping); release may still go on then (needLive false).
func (n *Node) begin(needLive bool) (lease clientv3.LeaseID, done func(), ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == StateStopped || needLive && n.stateLocked() != StateLive {
		return 0, nil, false
	}
	n.ops.Add(1)
	return n.lease, n.ops.Done, true
}

// Claim makes this node the owner of camera (a pushed camera, when a publisher connects)
// and returns its fencing revision. It succeeds at once when the node already owns it; it
// returns an *OwnedError when another node does (the caller redirects to it, or calls
// Takeover), ErrUnavailable when the node's lease is not live (claim nothing new), and
// ErrInvalidName for a bad name. The claim is a compare-and-swap transaction: of nodes
// claiming the same free camera, exactly one wins. EventGained is reported on success.
func (n *Node) Claim(ctx context.Context, camera string) (int64, error) {
	lease, done, err := n.beginClaim(camera)
	if err != nil {
		return 0, err
	}
	defer done()
	return n.claim(ctx, camera, lease)
}

// beginClaim is begin for Claim and Takeover of camera, with their errors.
func (n *Node) beginClaim(camera string) (clientv3.LeaseID, func(), error) {
	if err := validName(camera); err != nil {
		return 0, nil, err
	}
	lease, done, ok := n.begin(true)
	if !ok {
		return 0, nil, ErrUnavailable
	}
	return lease, done, nil
}

// claim is Claim under lease.
func (n *Node) claim(ctx context.Context, camera string, lease clientv3.LeaseID) (int64, error) {
	if rev, ok := n.ownedRev(camera); ok {
		return rev, nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	key := n.ownerKey(camera)
	resp, err := n.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(n.ownerValue), clientv3.WithLease(lease))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, claimErr(camera, err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return 0, fmt.Errorf("cluster: claim %s: owner key vanished inside a transaction", camera)
		}
		o, err := decodeOwner(kvs[0].Value, kvs[0].ModRevision)
		if err != nil {
			o = Owner{Node: "?", Revision: kvs[0].ModRevision}
		}
		return 0, &OwnedError{Camera: camera, Owner: o}
	}
	return n.gained(camera, lease, resp.Header.Revision, "")
}

// claimErr wraps an etcd error of a claim as ErrUnavailable: the node cannot claim now,
// whether etcd no longer knows its lease or could not be asked (stopped, cut off, a
// timeout) before the node noticed its lease in doubt. A claim whose answer was lost may
// have committed: the node then finds its own owner key when it claims again.
func claimErr(camera string, err error) error {
	return fmt.Errorf("claim %s: %w: %w", camera, ErrUnavailable, err)
}

// gained records the ownership of camera at rev, claimed under lease. If the lease was
// lost meanwhile the claim died with it: ErrUnavailable.
func (n *Node) gained(camera string, lease clientv3.LeaseID, rev int64, from string) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lease != lease {
		return 0, fmt.Errorf("claim %s: %w: the lease ended", camera, ErrUnavailable)
	}
	if o, ok := n.owners[camera]; n.seen >= rev && (!ok || o.Revision != rev) {
		// The watch has already passed the claim and a change after it: another node
		// took the camera over, or it was deleted, before this answer arrived.
		return 0, fmt.Errorf("claim %s: %w: superseded at once", camera, ErrNotOwner)
	}
	n.owned[camera] = rev
	n.owners[camera] = Owner{Node: n.cfg.Node, RTSPURL: n.cfg.RTSPURL, HTTPURL: n.cfg.HTTPURL, Revision: rev}
	n.emitLocked(Event{Kind: EventGained, Camera: camera, Revision: rev})
	if from != "" {
		n.log.Warn("camera taken over", "camera", camera, "revision", rev, "from", from)
	} else {
		n.log.Info("camera gained", "camera", camera, "revision", rev)
	}
	return rev, nil
}

func (n *Node) ownedRev(camera string) (int64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, ok := n.owned[camera]
	return rev, ok
}

// Takeover makes this node the owner of camera even when another live node owns it: the
// fenced handover for a publisher whose client does not follow redirects. It is Claim
// when the camera is free or already ours; otherwise it replaces the owner in a
// transaction that compares the owner's revision, so it fails with ErrNotOwner if the
// owner changed meanwhile. The old owner sees its ownership end (EventLost, Fence false)
// through its watch, and its Release can no longer delete the key.
func (n *Node) Takeover(ctx context.Context, camera string) (int64, error) {
	lease, done, err := n.beginClaim(camera)
	if err != nil {
		return 0, err
	}
	defer done()
	rev, err := n.claim(ctx, camera, lease)
	var owned *OwnedError
	if !errors.As(err, &owned) {
		return rev, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	key := n.ownerKey(camera)
	resp, err := n.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", owned.Owner.Revision)).
		Then(clientv3.OpPut(key, string(n.ownerValue), clientv3.WithLease(lease))).
		Commit()
	if err != nil {
		return 0, claimErr(camera, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("take over %s from %s: %w: the owner changed", camera, owned.Owner.Node, ErrNotOwner)
	}
	return n.gained(camera, lease, resp.Header.Revision, owned.Owner.Node)
}

// Release ends this node's ownership of camera (a publisher left): Fence turns false and
// EventLost is reported at once, and the owner key is deleted if it still holds this
// node's revision, so that it never deletes a newer owner's key. If etcd cannot be
// reached the deletion is retried in the background (the key expires with the lease
// anyway) and the error is returned. Releasing a camera the node does not own does
// nothing.
func (n *Node) Release(ctx context.Context, camera string) error {
	_, done, ok := n.begin(false)
	if !ok {
		return nil // stopping: the lease is revoked with every key on it
	}
	defer done()
	n.mu.Lock()
	rev, owned := n.owned[camera]
	if owned {
		n.loseLocked(camera, "released")
		n.unreleased[camera] = rev
	}
	n.mu.Unlock()
	if !owned {
		return nil
	}
	return n.deleteOwner(ctx, camera, rev)
}

// deleteOwner deletes camera's owner key if it still holds rev.
func (n *Node) deleteOwner(ctx context.Context, camera string, rev int64) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	key := n.ownerKey(camera)
	_, err := n.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return fmt.Errorf("cluster: release %s: %w", camera, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unreleased[camera] == rev {
		delete(n.unreleased, camera)
	}
	return nil
}

// Verify asks etcd whether rev is still the owner revision of camera: nil if so,
// ErrNotOwner if the camera has another owner or none, another error if etcd could not be
// asked. The uploader calls it before it publishes an object under rev; it is one
// linearizable read.
func (n *Node) Verify(ctx context.Context, camera string, rev int64) error {
	if err := validName(camera); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	resp, err := n.client.Get(ctx, n.ownerKey(camera))
	if err != nil {
		return fmt.Errorf("cluster: verify %s: %w", camera, err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision != rev {
		return fmt.Errorf("camera %s revision %d: %w", camera, rev, ErrNotOwner)
	}
	return nil
}
