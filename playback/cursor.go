package playback

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/camvault/camvault/storage"
)

// errNoMedia means no recorded fragment lies in the asked direction.
var errNoMedia = errors.New("no recorded media there")

// liveEdgePoll is how often a growing window whose recording stopped looks
// for a new segment.
const liveEdgePoll = time.Second

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lookAround bounds index scans for the neighbour of a segment; a longer
// recording gap is found by a second, unbounded scan.
const lookAround = 24 * time.Hour

// cursor walks one camera's fragments in time order, across segments. It
// holds the current segment with its seek table.
//
// Without a timeline it reads the local index alone. With one (Config.Remote
// set) it walks the timeline's claims: the current one is seg's span
// [from, until), fragments first to the last that starts before until (a
// zero until: the segment's end or, while it records, none).
type cursor struct {
	store  *storage.Store
	camera string
	seg    storage.SegmentInfo
	idx    int

	// ctx bounds the timeline's requests: the play's.
	ctx   context.Context
	tl    *timeline
	from  time.Time
	until time.Time
	first int
	// after caches the claim that follows the current one, once found.
	after    claim
	afterSet bool
}

func (c *cursor) frag() storage.Fragment { return c.seg.Fragments[c.idx] }

// segmentWithSeek loads the segment that starts at start, with its seek table.
func (c *cursor) segmentWithSeek(start time.Time) (storage.SegmentInfo, error) {
	segs, err := c.store.Segments(c.camera, start, start.Add(time.Nanosecond), true)
	if err != nil {
		return storage.SegmentInfo{}, err
	}
	for _, s := range segs {
		if s.Start.Equal(start) {
			return s, nil
		}
	}
	return storage.SegmentInfo{}, errNoMedia
}

// segmentAfter returns the first segment starting after t (without seek table).
func (c *cursor) segmentAfter(t time.Time) (storage.SegmentInfo, error) {
	for _, to := range []time.Time{t.Add(lookAround), {}} {
		segs, err := c.store.Segments(c.camera, t, to, false)
		if err != nil {
			return storage.SegmentInfo{}, err
		}
		for _, s := range segs {
			if s.Start.After(t) && len(s.Tracks) > 0 {
				return s, nil
			}
		}
	}
	return storage.SegmentInfo{}, errNoMedia
}

// segmentBefore returns the last segment starting before t.
func (c *cursor) segmentBefore(t time.Time) (storage.SegmentInfo, error) {
	for _, from := range []time.Time{t.Add(-lookAround), {}} {
		segs, err := c.store.Segments(c.camera, from, t, false)
		if err != nil {
			return storage.SegmentInfo{}, err
		}
		for i := len(segs) - 1; i >= 0; i-- {
			if segs[i].Start.Before(t) {
				return segs[i], nil
			}
		}
	}
	return storage.SegmentInfo{}, errNoMedia
}

// load makes seg current, positioned at fragment idx.
func (c *cursor) load(start time.Time, idx func([]storage.Fragment) int) error {
	seg, err := c.segmentWithSeek(start)
	if err != nil {
		return err
	}
	if len(seg.Fragments) == 0 {
		return errNoMedia
	}
	c.seg, c.idx = seg, idx(seg.Fragments)
	return nil
}

// seekForward positions for playing forward from t (ONVIF-05): the last
// keyframe fragment at or before t in the segment holding t, or the first
// fragment after t when t falls in a gap.
func (c *cursor) seekForward(t time.Time) error {
	if c.tl != nil {
		return c.seekForwardMerged(t)
	}
	seg, err := c.containing(t)
	if err == nil {
		return c.load(seg.Start, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, t) })
	}
	if !errors.Is(err, errNoMedia) {
		return err
	}
	next, err := c.segmentAfter(t)
	if err != nil {
		return err
	}
	return c.load(next.Start, func([]storage.Fragment) int { return 0 })
}

// seekReverse positions for playing backwards from t: the keyframe fragment
// at or before t, or the last one before a gap holding t.
func (c *cursor) seekReverse(t time.Time) error {
	if c.tl != nil {
		return c.seekReverseMerged(t)
	}
	seg, err := c.containing(t)
	if err == nil {
		return c.load(seg.Start, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, t) })
	}
	if !errors.Is(err, errNoMedia) {
		return err
	}
	prev, err := c.segmentBefore(t)
	if err != nil {
		return err
	}
	return c.load(prev.Start, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, prev.End) })
}

// containing returns the segment whose span holds t.
func (c *cursor) containing(t time.Time) (storage.SegmentInfo, error) {
	segs, err := c.store.Segments(c.camera, t, t.Add(time.Nanosecond), false)
	if err != nil {
		return storage.SegmentInfo{}, err
	}
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if !s.Start.After(t) && (t.Before(s.End) || s.State == storage.StateOpen) {
			return s, nil
		}
	}
	return storage.SegmentInfo{}, errNoMedia
}

// keyAtOrBefore returns the index of the last keyframe fragment starting at
// or before t (the first fragment if none).
func keyAtOrBefore(fs []storage.Fragment, t time.Time) int {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Start.After(t) }) - 1
	for ; i > 0 && !fs[i].Key; i-- {
	}
	return max(i, 0)
}

// next moves to the following fragment. On an open segment that has no
// more fragments yet it waits for one when wait is set (time-shift), else
// it reports errNoMedia. gap is the time skipped between the two fragments.
func (c *cursor) next(ctx context.Context, wait bool) (gap time.Duration, err error) {
	if c.tl != nil {
		return c.nextMerged(ctx, wait)
	}
	prevEnd := c.frag().End()
	for c.idx+1 >= len(c.seg.Fragments) {
		if c.seg.State == storage.StateOpen {
			if err := c.waitGrow(ctx, wait); err != nil {
				return 0, err
			}
			continue
		}
		nextSeg, err := c.segmentAfter(c.seg.Start)
		if errors.Is(err, errNoMedia) && wait {
			// ONVIF-13: at the end of footage a growing window stays playing
			// and resumes when the camera records again.
			if err := sleepCtx(ctx, liveEdgePoll); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := c.load(nextSeg.Start, func([]storage.Fragment) int { return 0 }); err != nil {
			return 0, err
		}
		return max(c.frag().Start.Sub(prevEnd), 0), nil
	}
	c.idx++
	return max(c.frag().Start.Sub(prevEnd), 0), nil
}

// waitGrow waits until the current segment, open, has more fragments or is
// sealed (time-shift); without wait it reports errNoMedia.
func (c *cursor) waitGrow(ctx context.Context, wait bool) error {
	if !wait {
		return errNoMedia
	}
	seg, err := c.store.WaitFragments(ctx, c.camera, c.seg.Start, len(c.seg.Fragments))
	if err != nil {
		return err
	}
	c.seg = seg
	return nil
}

// prevKey moves to the keyframe fragment before the current one.
func (c *cursor) prevKey() error {
	if c.tl != nil {
		return c.prevKeyMerged()
	}
	for i := c.idx - 1; i >= 0; i-- {
		if c.seg.Fragments[i].Key {
			c.idx = i
			return nil
		}
	}
	prev, err := c.segmentBefore(c.seg.Start)
	if err != nil {
		return err
	}
	return c.load(prev.Start, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, prev.End) })
}

// peekGapAfter returns the gap after the current fragment when the next one
// is known without waiting, and whether it is known.
func (c *cursor) peekGapAfter() (time.Duration, bool) {
	if c.tl != nil {
		return c.peekGapAfterMerged()
	}
	if c.idx+1 < len(c.seg.Fragments) {
		return max(c.seg.Fragments[c.idx+1].Start.Sub(c.frag().End()), 0), true
	}
	if c.seg.State == storage.StateOpen {
		return 0, false
	}
	nextSeg, err := c.segmentAfter(c.seg.Start)
	if err != nil {
		return 0, false
	}
	return max(nextSeg.Start.Sub(c.frag().End()), 0), true
}
