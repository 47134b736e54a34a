package storage

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The queries of this file (Spans, Summaries, Usage) answer from the index
// alone: they read each entry's head at its fixed offsets (segHead) and the
// seek table's fragment count, and walk a seek table only where a segment
// straddles a bucket boundary. They never decode Tracks or File and
// allocate per result, not per entry.

// Span is a stretch of continuous recording: consecutive segments whose gap
// is at most the tolerance given to Spans. Start and End are UTC.
type Span struct{ Start, End time.Time }

// Spans returns camera's recorded spans clipped to [from, to), oldest
// first; segments separated by at most gapTolerance (a negative one counts
// as zero) join one span. Open segments count up to what is written. A zero
// from or to means no bound on that side. A camera the index does not know
// has no spans (and no error); a name that fails ValidCamera gives
// ErrInvalidCamera, a closed Store ErrClosed. With limit > 0 it returns
// the first limit spans at most and reads no further (ask limit+1 to learn
// whether there are more). It reads the index entries' heads only and
// allocates nothing per entry beyond the result.
func (s *Store) Spans(camera string, from, to time.Time, gapTolerance time.Duration, limit int) ([]Span, error) {
	if err := ValidCamera(camera); err != nil {
		return nil, err
	}
	live := s.liveSegments(camera, nil)
	lo, hi := unixNano(from, math.MinInt64), unixNano(to, math.MaxInt64)
	tol := max(int64(gapTolerance), 0)
	var out []Span
	var cur struct{ start, end int64 }
	have := false
	err := s.view(func(tx *bolt.Tx) error {
		segs := cameraSegmentsOf(tx, camera)
		if segs == nil {
			return nil
		}
		c := segs.Cursor()
		for k, v := firstOverlap(c, lo); k != nil; k, v = c.Next() {
			h, ok := spanHead(k, v)
			if !ok {
				continue // check reports it; a query answers with what decodes
			}
			if h.start >= hi {
				break
			}
			h = live.apply(camera, h)
			start, end := max(h.start, lo), min(h.end, hi)
			if end <= start {
				continue
			}
			switch {
			case have && start-cur.end <= tol:
				cur.end = max(cur.end, end)
			default:
				if have {
					out = append(out, nsSpan(cur.start, cur.end))
					if len(out) == limit {
						have = false
						return nil
					}
				}
				cur.start, cur.end, have = start, end, true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if have {
		out = append(out, nsSpan(cur.start, cur.end))
	}
	return out, nil
}

func nsSpan(start, end int64) Span { return Span{Start: nsTime(start), End: nsTime(end)} }

// nsTime returns Unix ns as a UTC time.
func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// view runs fn in a read transaction; after Close it returns ErrClosed.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// cameraSegmentsOf returns camera's segments bucket, or nil.
func cameraSegmentsOf(tx *bolt.Tx, camera string) *bolt.Bucket {
	return cameraSegments(tx.Bucket(bucketCameras), []byte(camera))
}

// firstOverlap positions c on the first segment that may end after lo: the
// last one starting at or before lo, or the first one after it.
func firstOverlap(c *bolt.Cursor, lo int64) ([]byte, []byte) {
	if lo == math.MinInt64 {
		return c.First()
	}
	return seekOverlap(c, segKey(nsTime(lo)))
}

// liveSegment is what an open segment has written so far.
type liveSegment struct {
	camera     string
	start, end int64 // Unix ns
	bytes      int64
	frags      int       // fragments written
	cuts       []liveCut // at the bounds given to liveSegments inside (start, end)
}

// liveCut counts an open segment's fragments that start before an
// instant.
type liveCut struct {
	at     int64 // Unix ns
	before int
}

// liveSet is a snapshot of open segments, taken before a read transaction
// (see planner.live for why not inside one).
type liveSet []liveSegment

// liveSegments returns the open segments of camera ("" for all cameras),
// with, for each of the sorted instants bounds (Unix ns) that falls inside
// a segment, how many of its fragments start before it: a count and a few
// cuts per segment, never a copy of its seek table.
func (s *Store) liveSegments(camera string, bounds []int64) liveSet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out liveSet
	for seg := range s.open {
		if camera != "" && seg.camera != camera {
			continue
		}
		seg.mu.Lock()
		l := liveSegment{camera: seg.camera, start: seg.start.UnixNano(), end: seg.info.End.UnixNano(),
			bytes: seg.info.Bytes, frags: len(seg.info.Fragments)}
		l.cuts = liveCuts(seg.info.Fragments, bounds, l.start, l.end)
		seg.mu.Unlock()
		out = append(out, l)
	}
	return out
}

// liveCuts counts frags before each of bounds inside (start, end).
func liveCuts(frags []Fragment, bounds []int64, start, end int64) []liveCut {
	var cuts []liveCut
	for i := sort.Search(len(bounds), func(i int) bool { return bounds[i] > start }); i < len(bounds) && bounds[i] < end; i++ {
		b := bounds[i]
		n := sort.Search(len(frags), func(j int) bool { return frags[j].Start.UnixNano() >= b })
		cuts = append(cuts, liveCut{at: b, before: n})
	}
	return cuts
}

// before returns how many of l's fragments start before t, which is one
// of its cuts; between cuts it answers the count at the last cut before t.
func (l *liveSegment) before(t int64) int {
	i := sort.Search(len(l.cuts), func(i int) bool { return l.cuts[i].at > t })
	if i == 0 {
		return 0
	}
	return l.cuts[i-1].before
}

// find returns the live state of camera's open segment that starts at
// start.
func (ls liveSet) find(camera string, start int64) *liveSegment {
	for i := range ls {
		if ls[i].start == start && ls[i].camera == camera {
			return &ls[i]
		}
	}
	return nil
}

// apply replaces an open entry's end and bytes with what its segment has
// written so far; an open entry without a live segment (a crash's, until
// repair) keeps the index's values.
func (ls liveSet) apply(camera string, h segHead) segHead {
	if h.state != StateOpen {
		return h
	}
	if l := ls.find(camera, h.start); l != nil {
		h.end, h.bytes = l.end, l.bytes
	}
	return h
}

// spanHead reads what Spans needs of entry k/v: the start from the key,
// state and end from the value's fixed offsets (see segHead); bytes stay
// zero.
func spanHead(k, v []byte) (segHead, bool) {
	if len(k) != 8 || len(v) < segHeadMin || !knownSegVersion(v[0]) {
		return segHead{}, false
	}
	h := segHead{state: SegmentState(v[1]), start: keyNs(k), end: int64(binary.BigEndian.Uint64(v[10:18]))}
	return h, h.state == StateOpen || h.state == StateSealed
}
