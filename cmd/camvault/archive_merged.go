package main

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// clusterArchive is the API's archive in a cluster or with tiering: recording spans are the
// union of this node's index, the segments every node uploaded (a killed node's archive, a
// camera that moved) and the owner's segments not uploaded yet (its open one up to its last
// committed fragment), so the web timeline and the spans API show the camera's whole
// recorded time up to the present on any node. Summaries, usage and holds stay the node's
// own: a summary counts bytes, segments and fragments per bucket, which the object store's
// manifests and the owner's listing would give only with every seek table, and a sum over
// three sources that overlap (a local segment uploaded, an owner's segment uploaded while
// listed) would need them de-duplicated segment by segment.
type clusterArchive struct {
	*storage.Store
	tier    *tier.Tier   // nil without tiering
	peers   *peer.Remote // nil outside a cluster
	timeout time.Duration
}

// remoteSpanHours bounds the remote part of a spans query: the hours before its end that are
// listed (tier lists per hour, never the bucket).
const remoteSpanHours = 31 * 24 * time.Hour

// Spans implements api.Archive: the local spans, the uploaded segments and the owner's not
// uploaded ones overlapping [from, to), joined across gaps up to gapTolerance. An open bound,
// or a window longer than remoteSpanHours, lists the remote parts for the remoteSpanHours
// before its end only. An object store that fails fails the answer; an owner that does not
// answer leaves its part out (package peer logs and counts it).
func (a clusterArchive) Spans(camera string, from, to time.Time, gapTolerance time.Duration, limit int) ([]storage.Span, error) {
	local, err := a.Store.Spans(camera, from, to, gapTolerance, 0)
	if err != nil {
		return nil, err
	}
	rto := to
	if rto.IsZero() {
		rto = time.Now()
	}
	rfrom := from
	if rfrom.IsZero() || rto.Sub(rfrom) > remoteSpanHours {
		rfrom = rto.Add(-remoteSpanHours)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	var remote []storage.SegmentInfo
	if a.peers != nil {
		remote, _ = a.peers.Spans(ctx, camera, rfrom, rto) // logged and counted by peer
	}
	if a.tier != nil {
		up, err := a.tier.Segments(ctx, camera, rfrom, rto)
		if err != nil {
			return nil, err
		}
		for _, s := range up {
			remote = append(remote, s.SegmentInfo)
		}
	}
	all := local
	for _, s := range remote {
		sp := storage.Span{Start: s.Start, End: s.End}
		if !from.IsZero() && sp.Start.Before(from) {
			sp.Start = from
		}
		if !to.IsZero() && sp.End.After(to) {
			sp.End = to
		}
		if sp.End.After(sp.Start) {
			all = append(all, sp)
		}
	}
	return joinSpans(all, gapTolerance, limit), nil
}

// joinSpans sorts spans and joins those that overlap or are at most gap apart; limit > 0
// keeps the first limit.
func joinSpans(spans []storage.Span, gap time.Duration, limit int) []storage.Span {
	slices.SortFunc(spans, func(a, b storage.Span) int { return a.Start.Compare(b.Start) })
	gap = max(gap, 0)
	var out []storage.Span
	for _, sp := range spans {
		if n := len(out); n > 0 && !sp.Start.After(out[n-1].End.Add(gap)) {
			if sp.End.After(out[n-1].End) {
				out[n-1].End = sp.End
			}
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, sp)
	}
	return out
}

// archiveRemote is playback's Remote in a cluster or with tiering: the object store (tier)
// and the owners' segments not uploaded yet (peers), either of them nil. A peer segment's
// key says it is read from the node that recorded it (peer.IsKey).
type archiveRemote struct {
	tier  *tier.Tier
	peers *peer.Remote
}

// errNoTier says an object key was asked of a node without tiering.
var errNoTier = errors.New("no object store configured")

// RemoteSegments implements playback.Remote: the owner's segments not uploaded yet and the
// uploaded ones, oldest first. An owner's segment that the object store lists too (it was
// uploaded between the two listings) is left out. An object store that fails returns its
// error with the owner's segments, which playback still plays; an owner that fails is left
// out (package peer logs and counts it).
func (r archiveRemote) RemoteSegments(ctx context.Context, camera string, from, to time.Time) ([]storage.SegmentInfo, error) {
	var owner []storage.SegmentInfo
	if r.peers != nil {
		owner, _ = r.peers.RemoteSegments(ctx, camera, from, to)
	}
	var up []storage.SegmentInfo
	var err error
	if r.tier != nil {
		up, err = r.tier.RemoteSegments(ctx, camera, from, to)
	}
	return mergeOwner(owner, up), err
}

// mergeOwner returns the owner's and the uploaded segments, oldest first, without the
// owner's segments that are uploaded too (same start and revision).
func mergeOwner(owner, up []storage.SegmentInfo) []storage.SegmentInfo {
	out := slices.DeleteFunc(owner, func(o storage.SegmentInfo) bool {
		return slices.ContainsFunc(up, func(u storage.SegmentInfo) bool { return u.Start.Equal(o.Start) && u.Revision == o.Revision })
	})
	out = append(out, up...)
	slices.SortStableFunc(out, func(a, b storage.SegmentInfo) int { return a.Start.Compare(b.Start) })
	return out
}

// ReadAt implements playback.Remote: from the node that recorded a peer segment, else from
// the object store.
func (r archiveRemote) ReadAt(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if peer.IsKey(key) && r.peers != nil {
		return r.peers.ReadAt(ctx, key, off, n)
	}
	if r.tier == nil {
		return nil, errNoTier
	}
	return r.tier.ReadAt(ctx, key, off, n)
}
