package export

import (
	"fmt"
	"time"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// timeline maps the samples of an export's parts onto one continuous media
// timeline: within a segment the recorded decode times are kept exactly;
// each part starts where the previous one ended (a gap is collapsed), and
// the tracks stay in sync because every part's start is placed by the wall
// clock, the same way for every track.
//
// Times are per track in its timescale. The first fragment fixes a shift
// (shiftNs) that makes every decode time non-negative; edit lists add it
// back.
type timeline struct {
	tracks []track
	// collapsed is the export's time, in ns, of segStart.
	collapsed time.Duration
	segStart  time.Time // wall-clock start of the current part
	partEnd   time.Time // wall-clock end of the fragments seen in it
	base      []int64   // per track: media time (DTS+CTO) of segStart
	baseSet   bool
	shift     []int64 // per track, in its timescale: shiftNs
	shiftNs   time.Duration
	shiftSet  bool
	last      []int64 // per track: last decode time given out, -1 before any
	// end is the window's end; limit is, per track, the first media time
	// (DTS+CTO) of the current part presented at or after it.
	end   time.Time
	limit []int64
}

func newTimeline(tracks []track, end time.Time) *timeline {
	tl := &timeline{tracks: tracks, base: make([]int64, len(tracks)), shift: make([]int64, len(tracks)),
		last: make([]int64, len(tracks)), end: end, limit: make([]int64, len(tracks))}
	for i := range tl.last {
		tl.last[i] = -1
	}
	return tl
}

// enterPart starts a part whose first fragment starts at start.
func (tl *timeline) enterPart(start time.Time) {
	if !tl.segStart.IsZero() {
		tl.collapsed += tl.partEnd.Sub(tl.segStart)
	}
	tl.segStart, tl.partEnd, tl.baseSet = start, start, false
}

// index returns the index in tl.tracks of a track ID, -1 if none.
func (tl *timeline) index(id uint32) int {
	for i := range tl.tracks {
		if tl.tracks[i].id == id {
			return i
		}
	}
	return -1
}

// fragment takes a parsed fragment f of the current part (its headers are
// enough): the first of a part anchors the part's media time to the wall
// clock, the first of all fixes the shift.
func (tl *timeline) fragment(f storage.Fragment, p *fmp4.ParsedFragment) error {
	for i := range p.Samples {
		if tl.index(p.Samples[i].TrackID) < 0 {
			return fmt.Errorf("%w: sample of track %d, which the init lacks", fmp4.ErrMalformed, p.Samples[i].TrackID)
		}
	}
	if !tl.baseSet && len(p.Samples) > 0 {
		tl.anchor(p)
	}
	if !tl.shiftSet && len(p.Samples) > 0 {
		tl.fixShift(p)
	}
	if end := f.End(); end.After(tl.partEnd) {
		tl.partEnd = end
	}
	return nil
}

// anchor sets base: the reference track's first sample is presented at
// segStart (the index's fragment start comes from it).
func (tl *timeline) anchor(p *fmp4.ParsedFragment) {
	ref := &p.Samples[0]
	for i := range p.Samples {
		if p.Samples[i].TrackID == p.RefTrack {
			ref = &p.Samples[i]
			break
		}
	}
	ri := tl.index(ref.TrackID)
	refNs := ticksToNs(int64(ref.DTS)+int64(ref.CTO), tl.tracks[ri].timescale)
	for i := range tl.tracks {
		tl.base[i] = nsToTicks(refNs, tl.tracks[i].timescale)
	}
	tl.base[ri] = int64(ref.DTS) + int64(ref.CTO)
	tl.baseSet = true
	left := tl.end.Sub(tl.segStart)
	for i := range tl.tracks {
		tl.limit[i] = tl.base[i] + firstTickAtOrAfter(left, tl.tracks[i].timescale)
	}
}

// firstTickAtOrAfter returns the least n with ticksToNs(n) >= d.
func firstTickAtOrAfter(d time.Duration, timescale uint32) int64 {
	n := nsToTicks(d, timescale)
	for ticksToNs(n-1, timescale) >= d {
		n--
	}
	for ticksToNs(n, timescale) < d {
		n++
	}
	return n
}

// beforeEnd reports whether s on track ti is presented before the window's
// end: ticksToNs(DTS+CTO-base) < end-segStart, in integers.
func (tl *timeline) beforeEnd(ti int, s *fmp4.FragmentSample) bool {
	return int64(s.DTS)+int64(s.CTO) < tl.limit[ti]
}

// fixShift makes the first fragment's decode times non-negative.
func (tl *timeline) fixShift(p *fmp4.ParsedFragment) {
	for i := range p.Samples {
		s := &p.Samples[i]
		ti := tl.index(s.TrackID)
		raw := tl.raw(ti, s) - int64(s.CTO)
		if raw < 0 {
			tl.shiftNs = max(tl.shiftNs, ticksToNs(-raw, tl.tracks[ti].timescale))
		}
	}
	for i := range tl.tracks {
		tl.shift[i] = nsToTicks(tl.shiftNs, tl.tracks[i].timescale)
	}
	tl.shiftSet = true
}

// raw returns the unshifted export composition time of s on track ti.
func (tl *timeline) raw(ti int, s *fmp4.FragmentSample) int64 {
	return nsToTicks(tl.collapsed, tl.tracks[ti].timescale) + int64(s.DTS) + int64(s.CTO) - tl.base[ti]
}

// dts returns the export decode time of s on track ti, later than the
// previous one of the track. Call it once per sample, in decode order.
func (tl *timeline) dts(ti int, s *fmp4.FragmentSample) int64 {
	d := tl.raw(ti, s) + tl.shift[ti] - int64(s.CTO)
	d = max(d, tl.last[ti]+1)
	tl.last[ti] = d
	return d
}

// at returns the export time (shift included) of wall-clock instant w of
// the current part.
func (tl *timeline) at(w time.Time) time.Duration {
	return tl.collapsed + w.Sub(tl.segStart) + tl.shiftNs
}

// ticksToNs converts media ticks at timescale Hz to a duration.
func ticksToNs(n int64, timescale uint32) time.Duration {
	ts := int64(timescale)
	return time.Duration(n/ts)*time.Second + time.Duration(n%ts)*time.Second/time.Duration(ts)
}

// nsToTicks converts a duration to media ticks at timescale Hz, rounded to
// the nearest tick.
func nsToTicks(d time.Duration, timescale uint32) int64 {
	ts := int64(timescale)
	sec, rem := int64(d/time.Second), int64(d%time.Second)
	return sec*ts + (rem*ts+int64(time.Second)/2)/int64(time.Second)
}
