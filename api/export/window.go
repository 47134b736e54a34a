package export

import (
	"fmt"
	"sort"
	"time"

	"github.com/camvault/camvault/storage"
)

// part is one segment's share of an export: its fragments that the window
// takes, in order, and the tracks of its init.
type part struct {
	file   string
	frags  []storage.Fragment
	tracks []track
	// open reports a segment still being written.
	open bool
}

// end returns the wall-clock end of the part's last fragment.
func (p *part) end() time.Time { return p.frags[len(p.frags)-1].End() }

// gap is a stretch between two parts with nothing recorded; the export
// collapses it.
type gap struct{ from, to time.Time }

// minGap is the shortest gap the export lists: segment rotation may leave
// the next segment a few microseconds off the previous end.
const minGap = 100 * time.Millisecond

// selectParts finds the fragments of camera that an export of [start, end)
// holds: from the keyframe fragment at or before start (or the first one
// after start when start is not recorded) to the last fragment starting
// before end, across segments. Every part must have the first part's tracks
// and sample entries (ErrCodecChange otherwise).
func (s *Server) selectParts(camera string, start, end time.Time) ([]part, error) {
	segs, err := s.store.Segments(camera, start, end, true)
	if err != nil {
		return nil, s.unreadable("list segments", camera, err)
	}
	var parts []part
	for _, seg := range segs {
		frags := seg.Fragments
		stop := sort.Search(len(frags), func(i int) bool { return !frags[i].Start.Before(end) })
		first := 0
		if len(parts) == 0 {
			first = keyAtOrBefore(frags[:stop], start)
		}
		if first >= stop {
			continue
		}
		init, err := s.store.ReadInit(seg.File)
		if err != nil {
			return nil, s.unreadable("init of the segment at "+stamp(seg.Start), camera, err)
		}
		tracks, err := parseInit(init)
		if err != nil {
			return nil, s.unreadable("init of the segment at "+stamp(seg.Start), camera, err)
		}
		if len(parts) > 0 && !sameTracks(parts[0].tracks, tracks) {
			return nil, fmt.Errorf("%w at %s: export up to or from that instant", ErrCodecChange, stamp(frags[first].Start))
		}
		parts = append(parts, part{file: seg.File, frags: frags[first:stop], tracks: tracks, open: seg.State == storage.StateOpen})
	}
	if len(parts) == 0 {
		return nil, ErrNoRecording
	}
	return parts, nil
}

// keyAtOrBefore returns the index of the last keyframe fragment starting at
// or before t, or of the first keyframe fragment when none starts before t.
// It returns len(fs) when fs has no keyframe fragment there.
func keyAtOrBefore(fs []storage.Fragment, t time.Time) int {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Start.After(t) }) - 1
	for ; i >= 0; i-- {
		if fs[i].Key {
			return i
		}
	}
	for i = 0; i < len(fs) && !fs[i].Key; i++ {
	}
	return i
}

// gapsOf lists the gaps between consecutive parts.
func gapsOf(parts []part) []gap {
	var gaps []gap
	for i := 1; i < len(parts); i++ {
		from, to := parts[i-1].end(), parts[i].frags[0].Start
		if to.Sub(from) >= minGap {
			gaps = append(gaps, gap{from, to})
		}
	}
	return gaps
}

// stamp formats an instant for messages and headers: RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
