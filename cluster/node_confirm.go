package cluster

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Confirm answers, for what this node recorded of camera in doubt under the negated
// revision since (see Fence: this node's owner revision of camera, or, for a camera it did
// not own, the etcd revision its view was up to date with), the positive revision under
// which that recording may be published:
//
//   - the owner key's revision, when the key names this node and has not changed since
//     since: this node's ownership went on through the doubt;
//   - C, when the first change of the owner key after since that is not the end of this
//     node's own ownership (its release, or its lease's expiry while it could not reach
//     etcd) is this node's claim, at C: a claim creates the key, so from since to C the
//     key was absent or named this node; no other node owned the camera meanwhile, so
//     none committed a recording of it, and this node's recording before its claim is the
//     camera's only one. It is published under the claim's revision.
//
// It returns ErrUnclaimed when the owner key is absent now (not claimed yet: the caller
// may ask again after a claim), ErrNotOwner when another node owned the camera after
// since, or when etcd compacted the history since since and the claim cannot be proved
// first, and another error when etcd could not be asked. It reads the key and, when it
// changed after since, watches its history from since+1 up to that claim.
func (n *Node) Confirm(ctx context.Context, camera string, since int64) (int64, error) {
	if err := validName(camera); err != nil {
		return 0, err
	}
	if since <= 0 {
		return 0, fmt.Errorf("camera %s revision %d: %w", camera, since, ErrNotOwner)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	key := n.ownerKey(camera)
	resp, err := n.client.Get(ctx, key)
	switch {
	case err != nil:
		return 0, fmt.Errorf("cluster: confirm %s: %w", camera, err)
	case len(resp.Kvs) == 0:
		return 0, fmt.Errorf("camera %s since revision %d: %w", camera, since, ErrUnclaimed)
	case resp.Kvs[0].ModRevision <= since:
		if n.isSelf(resp.Kvs[0]) {
			return resp.Kvs[0].ModRevision, nil
		}
		return 0, fmt.Errorf("camera %s revision %d: owned by another node: %w", camera, since, ErrNotOwner)
	}
	ev, err := n.firstClaim(ctx, key, since)
	if err != nil {
		return 0, fmt.Errorf("cluster: confirm %s: %w", camera, err)
	}
	if ev.Type != mvccpb.PUT || !ev.IsCreate() || !n.isSelf(ev.Kv) {
		return 0, fmt.Errorf("camera %s revision %d: changed at %d before this node claimed it: %w",
			camera, since, ev.Kv.ModRevision, ErrNotOwner)
	}
	return ev.Kv.ModRevision, nil
}

// isSelf reports whether kv is an owner record of this node.
func (n *Node) isSelf(kv *mvccpb.KeyValue) bool {
	o, err := decodeOwner(kv.Value, kv.ModRevision)
	return err == nil && o.Node == n.cfg.Node
}

// firstClaim returns the first change of key after revision after that is not the
// deletion of this node's own owner record: the claim Confirm looks for, or the change that
// disproves it. The caller knows the key changed after after. A compacted history answers
// ErrNotOwner: nothing can be proved.
func (n *Node) firstClaim(ctx context.Context, key string, after int64) (*clientv3.Event, error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for resp := range n.client.Watch(wctx, key, clientv3.WithRev(after+1), clientv3.WithPrevKV()) {
		if err := resp.Err(); errors.Is(err, rpctypes.ErrCompacted) {
			return nil, fmt.Errorf("history since revision %d compacted: %w", after, ErrNotOwner)
		} else if err != nil {
			return nil, err
		}
		for _, ev := range resp.Events {
			if ev.Type == mvccpb.DELETE && ev.PrevKv != nil && n.isSelf(ev.PrevKv) {
				continue // this node's ownership ended: the key is absent again
			}
			return ev, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("watch ended")
}
