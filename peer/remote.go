package peer

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/storage"
)

// Remote is the owners' not-uploaded segments as package playback reads an archive's
// remote part (its Remote interface): each camera's segments on its owner, as they are at
// the listing. Safe for concurrent use.
type Remote struct {
	client *Client
	owner  func(camera string) (Node, bool)
	node   func(name string) (Node, bool)
	log    *slog.Logger

	// mu guards the fields below.
	mu    sync.Mutex
	down  map[string]bool // nodes whose failure is logged and whose recovery is not yet
	stats Stats
}

// Stats are a Remote's counters. Counters only grow.
type Stats struct {
	// ListFailures counts listings that failed: the presentation or spans went on without
	// that node's part.
	ListFailures uint64
	// ReadFailures counts reads that failed (playback skipped what they held).
	ReadFailures uint64
}

// NewRemote builds a Remote over client. owner returns the node that owns a camera (false
// for none, or this node itself); node returns a live node by name. Both are the caller's
// view of the cluster.
func NewRemote(client *Client, owner func(camera string) (Node, bool), node func(name string) (Node, bool), log *slog.Logger) *Remote {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Remote{client: client, owner: owner, node: node, log: log.With("component", "peer"), down: map[string]bool{}}
}

// keyPrefix starts the keys of peer segments. Object keys never contain ':' (tier's
// prefix and camera names cannot), so a key says which source it is read from.
const keyPrefix = "peer:"

// Key returns the key of camera's segment at start on node: what RemoteSegments puts in
// Upload.Key, and ReadAt reads.
func Key(node, camera string, start time.Time) string {
	return keyPrefix + node + "/" + camera + "/" + strconv.FormatInt(start.UnixNano(), 10)
}

// IsKey reports whether key is a peer segment's key (Key).
func IsKey(key string) bool { return strings.HasPrefix(key, keyPrefix) }

// parseKey splits a Key.
func parseKey(key string) (node, camera string, start time.Time, err error) {
	parts := strings.Split(strings.TrimPrefix(key, keyPrefix), "/")
	if !IsKey(key) || len(parts) != 3 || storage.ValidCamera(parts[0]) != nil || storage.ValidCamera(parts[1]) != nil {
		return "", "", time.Time{}, fmt.Errorf("peer: %q is not a peer segment key", key)
	}
	ns, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || ns <= 0 {
		return "", "", time.Time{}, fmt.Errorf("peer: %q is not a peer segment key", key)
	}
	return parts[0], parts[1], time.Unix(0, ns).UTC(), nil
}

// RemoteSegments returns camera's segments on its owner that are not uploaded and overlap
// [from, to), oldest first, with their seek tables, an empty File and the segment's Key in
// Upload.Key. The still-open segment comes as it is at the listing, sealed there (its end,
// bytes and seek table up to its last committed fragment): a presentation's window holds
// what the owner had committed when it listed the hour. Segments without a fragment are
// left out. No owner, or this node as owner, is an empty answer. A failed listing is
// counted and logged once until the node answers again.
func (r *Remote) RemoteSegments(ctx context.Context, camera string, from, to time.Time) ([]storage.SegmentInfo, error) {
	segs, n, err := r.list(ctx, camera, from, to, true)
	out := segs[:0]
	for _, s := range segs {
		if len(s.Fragments) == 0 {
			continue
		}
		s.State = storage.StateSealed
		s.Upload = storage.UploadMark{State: storage.UploadDone, Key: Key(n.Name, camera, s.Start)}
		out = append(out, s)
	}
	return out, err
}

// Spans returns camera's segments on its owner that are not uploaded and overlap
// [from, to), without seek tables; the open one ends at its last committed fragment.
// Failures are as RemoteSegments's.
func (r *Remote) Spans(ctx context.Context, camera string, from, to time.Time) ([]storage.SegmentInfo, error) {
	segs, _, err := r.list(ctx, camera, from, to, false)
	return segs, err
}

func (r *Remote) list(ctx context.Context, camera string, from, to time.Time, seek bool) ([]storage.SegmentInfo, Node, error) {
	n, ok := r.owner(camera)
	if !ok {
		return nil, Node{}, nil
	}
	segs, err := r.client.segments(ctx, n, camera, from, to, seek)
	if err != nil {
		r.failed(n.Name, func(st *Stats) { st.ListFailures++ }, err)
		return nil, n, err
	}
	r.answered(n.Name)
	return segs, n, nil
}

// ReadAt reads n bytes at off of the segment of key (Key) from the node that recorded it,
// wherever the camera is owned now.
func (r *Remote) ReadAt(ctx context.Context, key string, off, n int64) ([]byte, error) {
	name, camera, start, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	nd, ok := r.node(name)
	if !ok {
		err = fmt.Errorf("peer: node %s is not live", name)
	} else {
		var b []byte
		if b, err = r.client.ReadAt(ctx, nd, camera, start, off, n); err == nil {
			r.answered(name)
			return b, nil
		}
	}
	r.failed(name, func(st *Stats) { st.ReadFailures++ }, err)
	return nil, err
}

// Stats returns a copy of the counters.
func (r *Remote) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// failed counts a failure and logs the first of a node's outage.
func (r *Remote) failed(node string, count func(*Stats), err error) {
	r.mu.Lock()
	count(&r.stats)
	first := !r.down[node]
	r.down[node] = true
	r.mu.Unlock()
	if first {
		r.log.Warn("node unreachable for its not-uploaded segments; going on without them", "member", node, "err", err)
	}
}

// answered logs the end of a node's outage.
func (r *Remote) answered(node string) {
	r.mu.Lock()
	was := r.down[node]
	delete(r.down, node)
	r.mu.Unlock()
	if was {
		r.log.Info("node reachable again for its not-uploaded segments", "member", node)
	}
}
