package playback

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/camvault/camvault/storage"
)

// Remote is an object store of the archive, declared here so that
// playback never imports package tier; *tier.Tier implements it.
type Remote interface {
	// RemoteSegments returns camera's segments in the object store that
	// overlap [from, to), oldest first, each with its seek table, an empty
	// File and the object key in Upload.Key. Segments uploaded by other
	// nodes are included. from and to are never zero, and to-from is at
	// most maxRemoteRun. A Remote of several sources (the object store, a
	// camera's owner) returns what the sources that answered listed together
	// with the error of one that failed: the presentation plays what it got.
	RemoteSegments(ctx context.Context, camera string, from, to time.Time) ([]storage.SegmentInfo, error)
	// ReadAt returns n bytes of object key from offset off: one ranged GET.
	// The result is the caller's.
	ReadAt(ctx context.Context, key string, off, n int64) ([]byte, error)
}

// remoteBlock is the unit in which a presentation lists the object store
// and remembers what it listed: an hour, as the store's manifests.
const remoteBlock = time.Hour

// maxRemoteRun bounds one listing call (tier refuses windows longer than
// 93 days); a longer run of unlisted hours is listed in several.
const maxRemoteRun = 24 * remoteBlock

// maxRemoteHorizon bounds Config.RemoteHorizon.
const maxRemoteHorizon = 90 * 24 * time.Hour

// timeline is one presentation's merged view of a camera's archive: the
// local index (read afresh at every question, so a growing window follows
// the recording) and the object store (listed by the hour within [lo, hi)
// as questions need it, and remembered for the presentation's life).
//
// Where segments overlap, one claims each instant (see beats): the same
// instant is never played twice. A claim is the span in which one segment
// is played.
type timeline struct {
	store   *storage.Store
	remote  Remote
	camera  string
	timeout time.Duration
	// lo and hi bound the hours listed in the object store.
	lo, hi time.Time
	fail   *failures

	// mu guards the fields below: the sender goroutine lists, its reads
	// ahead fill inits.
	mu     sync.Mutex
	listed map[int64]bool // hour blocks listed, by their start (Unix s)
	segs   []storage.SegmentInfo
	inits  map[string][]byte // remote segments' ftyp+moov, by object key
}

func newTimeline(s *Server, camera string, lo, hi time.Time, fail *failures) *timeline {
	return &timeline{store: s.cfg.Store, remote: s.cfg.Remote, camera: camera, timeout: s.cfg.RemoteReadTimeout,
		lo: lo, hi: hi, fail: fail, listed: map[int64]bool{}, inits: map[string][]byte{}}
}

// claim is the span [from, to) in which seg is played; a zero to is open
// (a local segment still recording, not overtaken).
type claim struct {
	seg      storage.SegmentInfo
	from, to time.Time
}

// isRemote reports whether a segment is read from the object store.
func isRemote(s *storage.SegmentInfo) bool { return s.File == "" }

// openEnd returns where s ends for claims: zero (open) while it records.
func openEnd(s *storage.SegmentInfo) time.Time {
	if s.State == storage.StateOpen {
		return time.Time{}
	}
	return s.End
}

// covers reports whether s holds instant t.
func covers(s *storage.SegmentInfo, t time.Time) bool {
	return !s.Start.After(t) && (t.Before(s.End) || s.State == storage.StateOpen)
}

// sameSegment reports whether a and b are the same entry.
func sameSegment(a, b *storage.SegmentInfo) bool {
	return a.Start.Equal(b.Start) && a.File == b.File && a.Upload.Key == b.Upload.Key
}

// beats orders overlapping segments: the higher fencing revision wins (the
// camera's owner after a failover or partition); at equal revisions the one
// that began first (it is already playing); then the local copy.
func beats(a, b *storage.SegmentInfo) bool {
	switch {
	case a.Revision != b.Revision:
		return a.Revision > b.Revision
	case !a.Start.Equal(b.Start):
		return a.Start.Before(b.Start)
	}
	return !isRemote(a) && isRemote(b)
}

// merge returns local and remote segments in start order, without the
// remote copies of local segments (same start, and same revision or object
// key) and without segments that hold nothing playable. A local segment
// recorded in doubt (negative revision) and uploaded under the revision
// that confirmed it takes that revision from its remote copy.
func merge(local, remote []storage.SegmentInfo) []storage.SegmentInfo {
	out := make([]storage.SegmentInfo, 0, len(local)+len(remote))
	for _, s := range local {
		if len(s.Tracks) > 0 && (s.End.After(s.Start) || s.State == storage.StateOpen) {
			out = append(out, s)
		}
	}
	nLocal := len(out)
	for _, r := range remote {
		copyOf := func(l storage.SegmentInfo) bool {
			return l.Start.Equal(r.Start) && (l.Revision == r.Revision || l.Upload.Key != "" && l.Upload.Key == r.Upload.Key)
		}
		if i := slices.IndexFunc(out[:nLocal], copyOf); i >= 0 {
			out[i].Revision = r.Revision
			continue
		}
		if len(r.Tracks) == 0 || !r.End.After(r.Start) || slices.ContainsFunc(local, copyOf) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b storage.SegmentInfo) int { return a.Start.Compare(b.Start) })
	return out
}

// best returns the segment of segs that claims instant t.
func best(segs []storage.SegmentInfo, t time.Time) (storage.SegmentInfo, bool) {
	var w *storage.SegmentInfo
	for i := range segs {
		if covers(&segs[i], t) && (w == nil || beats(&segs[i], w)) {
			w = &segs[i]
		}
	}
	if w == nil {
		return storage.SegmentInfo{}, false
	}
	return *w, true
}

// claimOf returns the claim of w that holds t, w being best at t among all,
// the segments that overlap w: from the end of the last segment that beats
// w and ends at or before t, to the start of the first one that beats it
// and starts after t.
func claimOf(w storage.SegmentInfo, all []storage.SegmentInfo, t time.Time) claim {
	c := claim{seg: w, from: w.Start, to: openEnd(&w)}
	for i := range all {
		s := &all[i]
		if sameSegment(s, &w) || !beats(s, &w) {
			continue
		}
		if s.Start.After(t) {
			if c.to.IsZero() || s.Start.Before(c.to) {
				c.to = s.Start
			}
			continue
		}
		// s began at or before t and does not hold t (w is best there).
		if end := openEnd(s); !end.IsZero() && end.After(c.from) {
			c.from = end
		}
	}
	return c
}

// segments returns the local and remote segments that overlap [from, to)
// (a zero to: no bound), merged.
func (tl *timeline) segments(ctx context.Context, from, to time.Time) ([]storage.SegmentInfo, error) {
	local, err := tl.store.Segments(tl.camera, from, to, false)
	if err != nil {
		return nil, err
	}
	return merge(local, tl.remoteOverlapping(ctx, from, to)), nil
}

// claimAt returns the claim that holds t, or errNoMedia.
func (tl *timeline) claimAt(ctx context.Context, t time.Time) (claim, error) {
	near, err := tl.segments(ctx, t, t.Add(time.Nanosecond))
	if err != nil {
		return claim{}, err
	}
	w, ok := best(near, t)
	if !ok {
		return claim{}, errNoMedia
	}
	all, err := tl.segments(ctx, w.Start, openEnd(&w))
	if err != nil {
		return claim{}, err
	}
	return claimOf(w, all, t), nil
}

// claimFrom returns the claim that holds t or, when t falls in a gap, the
// first one after it.
func (tl *timeline) claimFrom(ctx context.Context, t time.Time) (claim, error) {
	c, err := tl.claimAt(ctx, t)
	if !errors.Is(err, errNoMedia) {
		return c, err
	}
	next, err := tl.startAfter(ctx, t)
	if err != nil {
		return claim{}, err
	}
	return tl.claimAt(ctx, next)
}

// claimBefore returns the last claim that ends at or before t.
func (tl *timeline) claimBefore(ctx context.Context, t time.Time) (claim, error) {
	c, err := tl.claimAt(ctx, t.Add(-time.Nanosecond))
	if !errors.Is(err, errNoMedia) {
		return c, err
	}
	end, err := tl.endBefore(ctx, t)
	if err != nil {
		return claim{}, err
	}
	return tl.claimAt(ctx, end.Add(-time.Nanosecond))
}

// startAfter returns the first start of a segment after t, local or remote.
func (tl *timeline) startAfter(ctx context.Context, t time.Time) (time.Time, error) {
	c := cursor{store: tl.store, camera: tl.camera}
	next, err := c.segmentAfter(t)
	if err != nil && !errors.Is(err, errNoMedia) {
		return time.Time{}, err
	}
	found := err == nil
	if r, ok := tl.remoteStartAfter(ctx, t); ok && (!found || r.Before(next.Start)) {
		return r, nil
	}
	if !found {
		return time.Time{}, errNoMedia
	}
	return next.Start, nil
}

// endBefore returns the latest end at or before t of a segment that starts
// before t, local or remote.
func (tl *timeline) endBefore(ctx context.Context, t time.Time) (time.Time, error) {
	c := cursor{store: tl.store, camera: tl.camera}
	var end time.Time
	prev, err := c.segmentBefore(t)
	switch {
	case err == nil:
		end = minTime(prev.End, t)
	case !errors.Is(err, errNoMedia):
		return time.Time{}, err
	}
	if r, ok := tl.remoteEndBefore(ctx, t); ok && r.After(end) {
		end = r
	}
	if end.IsZero() {
		return time.Time{}, errNoMedia
	}
	return end, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// remoteOverlapping returns the remote segments that overlap [from, to)
// within [lo, hi), listing the hours not listed yet.
func (tl *timeline) remoteOverlapping(ctx context.Context, from, to time.Time) []storage.SegmentInfo {
	if tl.remote == nil {
		return nil
	}
	tl.list(ctx, from, to)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []storage.SegmentInfo
	for _, s := range tl.segs {
		if (to.IsZero() || s.Start.Before(to)) && s.End.After(from) {
			out = append(out, s)
		}
	}
	return out
}

// list lists the object store's hours of [from, to) ∩ [lo, hi) that were
// not listed yet, a run of consecutive hours with one call. A failed call
// is logged (once per presentation) and counted, and its hours count as
// listed, with the segments it returned if any: the session goes on with
// what it has rather than wait on the store at every question.
func (tl *timeline) list(ctx context.Context, from, to time.Time) {
	if from.Before(tl.lo) {
		from = tl.lo
	}
	if to.IsZero() || to.After(tl.hi) {
		to = tl.hi
	}
	for b := from.Truncate(remoteBlock); b.Before(to); {
		if tl.isListed(b) {
			b = b.Add(remoteBlock)
			continue
		}
		e := b
		for e.Before(to) && !tl.isListed(e) && e.Sub(b) < maxRemoteRun {
			e = e.Add(remoteBlock)
		}
		tl.listRun(ctx, b, e)
		b = e
	}
}

func (tl *timeline) isListed(b time.Time) bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.listed[b.Unix()]
}

// listRun lists the hours [b, e) (clamped to [lo, hi)) and remembers them.
func (tl *timeline) listRun(ctx context.Context, b, e time.Time) {
	from, to := b, e
	if from.Before(tl.lo) {
		from = tl.lo
	}
	if to.After(tl.hi) {
		to = tl.hi
	}
	ctx, cancel := context.WithTimeout(ctx, tl.timeout)
	got, err := tl.remote.RemoteSegments(ctx, tl.camera, from, to)
	cancel()
	if err != nil {
		tl.fail.list(err, from, to) // what got holds, the sources that answered, is played
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for h := b; h.Before(e); h = h.Add(remoteBlock) {
		tl.listed[h.Unix()] = true
	}
	for _, s := range got {
		if s.Upload.Key == "" || slices.ContainsFunc(tl.segs, func(o storage.SegmentInfo) bool { return o.Upload.Key == s.Upload.Key }) {
			continue
		}
		s.File = "" // read through Remote only
		i, _ := slices.BinarySearchFunc(tl.segs, s.Start, func(o storage.SegmentInfo, t time.Time) int { return o.Start.Compare(t) })
		tl.segs = slices.Insert(tl.segs, i, s)
	}
}

// remoteStartAfter returns the first start after t of a remote segment
// before hi, listing forward in growing steps.
func (tl *timeline) remoteStartAfter(ctx context.Context, t time.Time) (time.Time, bool) {
	if tl.remote == nil {
		return time.Time{}, false
	}
	for from, step := t, remoteBlock; from.Before(tl.hi); from, step = from.Add(step), min(2*step, maxRemoteRun) {
		to := from.Add(step)
		tl.list(ctx, from, to)
		tl.mu.Lock()
		i, _ := slices.BinarySearchFunc(tl.segs, t, func(o storage.SegmentInfo, x time.Time) int {
			if o.Start.After(x) {
				return 1
			}
			return -1
		})
		var s time.Time
		if i < len(tl.segs) {
			s = tl.segs[i].Start
		}
		tl.mu.Unlock()
		if !s.IsZero() && s.Before(to) {
			return s, true
		}
	}
	return time.Time{}, false
}

// remoteEndBefore returns the latest end, at most t, of a remote segment
// that starts before t and after lo, listing backward in growing steps.
func (tl *timeline) remoteEndBefore(ctx context.Context, t time.Time) (time.Time, bool) {
	if tl.remote == nil {
		return time.Time{}, false
	}
	for to, step := minTime(t, tl.hi), remoteBlock; to.After(tl.lo); to, step = to.Add(-step), min(2*step, maxRemoteRun) {
		from := to.Add(-step)
		tl.list(ctx, from, to)
		var end time.Time
		tl.mu.Lock()
		for _, s := range tl.segs {
			if s.Start.Before(t) && !s.Start.Before(from) {
				end = maxTime(end, minTime(s.End, t))
			}
		}
		tl.mu.Unlock()
		if !end.IsZero() {
			return end, true
		}
	}
	return time.Time{}, false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
