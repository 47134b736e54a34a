package playback

import (
	"context"
	"errors"
	"time"

	"github.com/camvault/camvault/storage"
)

// The cursor's walk of a timeline (Config.Remote set): the same moves as
// over the local index, claim by claim.

// inClaim reports whether fragment i is played in the current claim.
func (c *cursor) inClaim(i int) bool {
	fs := c.seg.Fragments
	return i >= c.first && i < len(fs) && (c.until.IsZero() || fs[i].Start.Before(c.until))
}

// claimEnd returns where the current claim ends: its until, or the
// segment's end.
func (c *cursor) claimEnd() time.Time {
	if !c.until.IsZero() {
		return c.until
	}
	return c.seg.End
}

// firstInClaim returns the first fragment played from from: the first, or
// the first keyframe fragment starting at or after from when from cuts the
// segment (another segment claimed what lies before).
func firstInClaim(seg *storage.SegmentInfo, from time.Time) int {
	if !from.After(seg.Start) {
		return 0
	}
	for i, f := range seg.Fragments {
		if f.Key && !f.Start.Before(from) {
			return i
		}
	}
	return len(seg.Fragments)
}

// enter makes claim cl current at the fragment pick chooses (clamped to the
// claim's first). It reports errNoMedia, and leaves the cursor as it was,
// when the claim holds no fragment to start at (yet, for a segment that
// has just begun recording).
func (c *cursor) enter(cl claim, pick func([]storage.Fragment) int) error {
	seg := cl.seg
	if !isRemote(&seg) {
		var err error
		if seg, err = c.segmentWithSeek(cl.seg.Start); err != nil {
			return err
		}
	}
	n := cursor{seg: seg, from: cl.from, until: cl.to, first: firstInClaim(&seg, cl.from)}
	if !n.inClaim(n.first) {
		return errNoMedia
	}
	n.idx = max(pick(seg.Fragments), n.first)
	if !n.inClaim(n.idx) {
		n.idx = n.first
	}
	c.seg, c.idx, c.from, c.until, c.first, c.afterSet = n.seg, n.idx, n.from, n.until, n.first, false
	return nil
}

// enterFrom enters the claim that holds t, or the next one after it, at the
// fragment pick chooses; a claim with nothing to play is passed over.
func (c *cursor) enterFrom(ctx context.Context, t time.Time, pick func([]storage.Fragment) int) error {
	for {
		cl, err := c.tl.claimFrom(ctx, t)
		if err != nil {
			return err
		}
		if err = c.enter(cl, pick); !errors.Is(err, errNoMedia) || cl.to.IsZero() {
			return err
		}
		t = cl.to
	}
}

func (c *cursor) seekForwardMerged(t time.Time) error {
	return c.enterFrom(c.ctx, t, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, t) })
}

func (c *cursor) seekReverseMerged(t time.Time) error {
	cl, err := c.tl.claimAt(c.ctx, t)
	if errors.Is(err, errNoMedia) {
		cl, err = c.tl.claimBefore(c.ctx, t)
	}
	if err != nil {
		return err
	}
	at := t
	if end := cl.to; !end.IsZero() && !at.Before(end) {
		at = end.Add(-time.Nanosecond)
	}
	return c.enter(cl, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, at) })
}

// nextMerged is next over the timeline: the following fragment of the
// claim, new fragments of a recording segment (when wait), or the first of
// the next claim.
func (c *cursor) nextMerged(ctx context.Context, wait bool) (time.Duration, error) {
	prevEnd := c.frag().End()
	if !c.until.IsZero() && prevEnd.After(c.until) {
		prevEnd = c.until
	}
	for !c.inClaim(c.idx + 1) {
		if c.seg.State == storage.StateOpen && c.until.IsZero() {
			if err := c.waitGrow(ctx, wait); err != nil {
				return 0, err
			}
			continue
		}
		err := c.enterNext(ctx)
		if errors.Is(err, errNoMedia) && wait {
			if err := sleepCtx(ctx, liveEdgePoll); err != nil { // ONVIF-13, as over the local index
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		return max(c.frag().Start.Sub(prevEnd), 0), nil
	}
	c.idx++
	return max(c.frag().Start.Sub(prevEnd), 0), nil
}

// enterNext enters the claim after the current one at its first fragment.
func (c *cursor) enterNext(ctx context.Context) error {
	first := func([]storage.Fragment) int { return 0 }
	if c.afterSet {
		if err := c.enter(c.after, first); !errors.Is(err, errNoMedia) || c.after.to.IsZero() {
			return err
		}
		return c.enterFrom(ctx, c.after.to, first)
	}
	return c.enterFrom(ctx, c.claimEnd(), first)
}

// skipClaim leaves the current claim for the next one (its init could not
// be read).
func (c *cursor) skipClaim(ctx context.Context) error {
	if c.until.IsZero() && c.seg.State == storage.StateOpen {
		return errNoMedia
	}
	return c.enterNext(ctx)
}

func (c *cursor) prevKeyMerged() error {
	for i := c.idx - 1; i >= c.first; i-- {
		if c.seg.Fragments[i].Key {
			c.idx = i
			return nil
		}
	}
	return c.enterPrev()
}

// enterPrev enters the claim before the current one at its last keyframe
// fragment.
func (c *cursor) enterPrev() error {
	cl, err := c.tl.claimBefore(c.ctx, c.from)
	if err != nil {
		return err
	}
	at := cl.seg.End
	if !cl.to.IsZero() {
		at = cl.to.Add(-time.Nanosecond)
	}
	return c.enter(cl, func(fs []storage.Fragment) int { return keyAtOrBefore(fs, at) })
}

func (c *cursor) peekGapAfterMerged() (time.Duration, bool) {
	end := c.frag().End()
	if !c.until.IsZero() && end.After(c.until) {
		end = c.until
	}
	if c.inClaim(c.idx + 1) {
		return max(c.seg.Fragments[c.idx+1].Start.Sub(end), 0), true
	}
	next, ok := c.peekClaim()
	if !ok {
		return 0, false
	}
	return max(next.from.Sub(end), 0), true
}

// peekClaim returns the claim after the current one when one is known
// without waiting. A claim found is cached until the cursor moves to
// another claim; none found is asked again next time (a growing window).
func (c *cursor) peekClaim() (claim, bool) {
	if c.afterSet {
		return c.after, true
	}
	if c.seg.State == storage.StateOpen && c.until.IsZero() {
		return claim{}, false
	}
	next, err := c.tl.claimFrom(c.ctx, c.claimEnd())
	if err != nil {
		return claim{}, false
	}
	c.after, c.afterSet = next, true
	return next, true
}
