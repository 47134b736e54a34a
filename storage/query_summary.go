package storage

import (
	"bytes"
	"fmt"
	"math/bits"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Summary is one hour or day (in a time zone) of one camera.
type Summary struct {
	// Start and End are the bucket's bounds in the query's time zone: a
	// local full hour, or local midnight to the next (a day with a daylight
	// saving change lasts 23 or 25 hours).
	Start, End time.Time
	// Recorded is the recorded time inside the bucket.
	Recorded time.Duration
	// Bytes are the bytes of the segments overlapping the bucket, each
	// apportioned by the share of its time inside the bucket; a segment's
	// shares over all buckets add up to its bytes exactly.
	Bytes int64
	// Segments counts the segments overlapping the bucket.
	Segments int
	// Fragments counts the fragments that start inside the bucket (exact).
	Fragments int
}

// Summaries returns one Summary per bucket of unit in loc (nil means UTC)
// that overlaps [from, to), oldest first, recorded or not: the first
// starts at or before from, the last ends at or after to, and each counts
// everything inside its bounds. Open segments count up to what is written.
// from and to are required, from before to, and the range may hold at most
// Config.MaxSummaryBuckets buckets (else ErrInvalidRange). A camera the
// index does not know gets empty buckets; a name that fails ValidCamera
// gives ErrInvalidCamera. It reads index entry heads and seek table
// counts, and walks the seek table only of a segment that straddles a
// bucket boundary.
func (s *Store) Summaries(camera string, from, to time.Time, unit SummaryUnit, loc *time.Location) ([]Summary, error) {
	if err := ValidCamera(camera); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	out, err := summaryBuckets(from, to, unit, loc, s.cfg.MaxSummaryBuckets)
	if err != nil {
		return nil, err
	}
	bounds := make([]int64, len(out)+1)
	for i := range out {
		bounds[i] = out[i].Start.UnixNano()
	}
	bounds[len(out)] = out[len(out)-1].End.UnixNano()
	live := s.liveSegments(camera, bounds)
	err = s.view(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil || cb.Bucket(bucketSegments) == nil || cb.Bucket(bucketSeek) == nil {
			return nil
		}
		sm := summer{camera: camera, buckets: out, bounds: bounds, live: live, seek: cb.Bucket(bucketSeek).Cursor()}
		sm.walk(cb.Bucket(bucketSegments).Cursor())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// summaryBuckets returns the empty buckets of unit in loc that cover
// [from, to).
func summaryBuckets(from, to time.Time, unit SummaryUnit, loc *time.Location, maxBuckets int) ([]Summary, error) {
	switch {
	case unit != SummaryHour && unit != SummaryDay:
		return nil, fmt.Errorf("%w: unknown summary unit %v", ErrInvalidRange, unit)
	case from.IsZero() || to.IsZero() || !from.Before(to):
		return nil, fmt.Errorf("%w: summaries need a start before the end", ErrInvalidRange)
	}
	// A bound on the count before anything is allocated: no zone's hour or
	// day is shorter than half of one.
	if limit := unitLen(unit) / 2 * time.Duration(maxBuckets); to.Sub(from) > limit {
		return nil, fmt.Errorf("%w: more than %d %s buckets", ErrInvalidRange, maxBuckets, unit)
	}
	out := make([]Summary, 0, min(int(to.Sub(from)/unitLen(unit))+2, maxBuckets))
	b := bucketFloor(from, unit, loc)
	_, zoneEnd := b.ZoneBounds()
	for b.Before(to) {
		var next time.Time
		switch {
		case unit == SummaryHour && (zoneEnd.IsZero() || b.Add(time.Hour).Before(zoneEnd)):
			next = b.Add(time.Hour) // the offset stays: so does the alignment
		default:
			next = bucketNext(b, unit, loc)
			_, zoneEnd = next.ZoneBounds()
		}
		if len(out) == maxBuckets {
			return nil, fmt.Errorf("%w: more than %d %s buckets", ErrInvalidRange, maxBuckets, unit)
		}
		out = append(out, Summary{Start: b, End: next})
		b = next
	}
	return out, nil
}

func unitLen(u SummaryUnit) time.Duration {
	if u == SummaryDay {
		return 24 * time.Hour
	}
	return time.Hour
}

// bucketFloor returns the start of the bucket of unit in loc that holds t.
func bucketFloor(t time.Time, unit SummaryUnit, loc *time.Location) time.Time {
	t = t.In(loc)
	if unit == SummaryDay {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	return t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second -
		time.Duration(t.Nanosecond()))
}

// bucketNext returns the start of the bucket after the one that starts at b.
func bucketNext(b time.Time, unit SummaryUnit, loc *time.Location) time.Time {
	if unit == SummaryDay {
		y, m, d := b.Date()
		if n := time.Date(y, m, d+1, 0, 0, 0, 0, loc); n.After(b) {
			return n
		}
		return b.Add(24 * time.Hour) // not reached in real zones
	}
	if n := bucketFloor(b.Add(time.Hour), unit, loc); n.After(b) {
		return n
	}
	return b.Add(time.Hour)
}

// summer adds one camera's segments into buckets.
type summer struct {
	camera  string
	buckets []Summary
	// bounds are the buckets' starts in Unix ns, then the last one's end.
	bounds []int64
	live   liveSet
	seek   *bolt.Cursor // reads seek tables, for entries without counts
	bi     int          // the first bucket that may hold the current segment
}

// walk adds every segment that overlaps the buckets.
func (sm *summer) walk(c *bolt.Cursor) {
	lo, hi := sm.bounds[0], sm.bounds[len(sm.bounds)-1]
	for k, v := firstOverlap(c, lo); k != nil; k, v = c.Next() {
		h, ok := decodeSegHead(v)
		if !ok || len(k) != 8 {
			continue
		}
		if h.start >= hi {
			return
		}
		h = sm.live.apply(sm.camera, h)
		if h.end <= h.start || h.end <= lo {
			continue
		}
		for sm.bi < len(sm.buckets) && sm.bounds[sm.bi+1] <= h.start {
			sm.bi++
		}
		if h.start >= sm.bounds[sm.bi] && h.end <= sm.bounds[sm.bi+1] { // inside one bucket
			b := &sm.buckets[sm.bi]
			b.Recorded += time.Duration(h.end - h.start)
			b.Segments++
			b.Bytes += h.bytes
			b.Fragments += sm.count(k, v, h)
			continue
		}
		fc := sm.counter(k, v, h)
		sm.add(h, &fc)
	}
}

// count returns how many fragments entry k/v holds.
func (sm *summer) count(k, v []byte, h segHead) int {
	if h.state == StateOpen {
		if l := sm.live.find(sm.camera, h.start); l != nil {
			return l.frags
		}
		return 0
	}
	if c, ok := decodeFragCounts(v); ok {
		return c.n
	}
	it := seekIter{r: valueReader{b: sm.seekValue(k)}}
	return int(it.begin())
}

// add adds a segment that crosses bucket bounds: its time, bytes and
// fragments, split by bucket.
func (sm *summer) add(h segHead, fc *fragCounter) {
	prev := fc.before(max(h.start, sm.bounds[sm.bi]))
	for j := sm.bi; j < len(sm.buckets) && sm.bounds[j] < h.end; j++ {
		from, to := max(h.start, sm.bounds[j]), min(h.end, sm.bounds[j+1])
		b := &sm.buckets[j]
		b.Recorded += time.Duration(to - from)
		b.Segments++
		b.Bytes += share(h, to) - share(h, from)
		next := fc.before(to)
		b.Fragments += next - prev
		prev = next
	}
}

// share returns the bytes of segment h up to instant t (start <= t <= end),
// in proportion to time: h.bytes * (t-start) / (end-start), rounded down,
// so that the shares of consecutive pieces add up to h.bytes exactly.
func share(h segHead, t int64) int64 {
	hi, lo := bits.Mul64(uint64(h.bytes), uint64(t-h.start))
	q, _ := bits.Div64(hi, lo, uint64(h.end-h.start)) // hi < divisor: t-start <= end-start
	return int64(q)
}

// fragCounter counts one segment's fragments that start before an
// instant: from the live seek table of an open segment, the count tail of
// a sealed entry, or, for an instant that is no mark (or an entry without
// counts), its seek table.
type fragCounter struct {
	h      segHead
	n      int
	live   *liveSegment // open segment
	counts fragCounts
	marked bool   // counts holds the marks
	seek   []byte // the seek table, read when first needed
	sm     *summer
	k      []byte
}

// counter returns the fragment counter of entry k/v.
func (sm *summer) counter(k, v []byte, h segHead) fragCounter {
	fc := fragCounter{h: h, sm: sm, k: k}
	if h.state == StateOpen {
		if l := sm.live.find(sm.camera, h.start); l != nil {
			fc.live, fc.n = l, l.frags
		}
		return fc
	}
	if c, ok := decodeFragCounts(v); ok {
		fc.counts, fc.marked, fc.n = c, true, c.n
		return fc
	}
	fc.seek = sm.seekValue(k)
	it := seekIter{r: valueReader{b: fc.seek}}
	fc.n = int(it.begin())
	return fc
}

// before returns how many fragments start before t.
func (fc *fragCounter) before(t int64) int {
	switch {
	case t <= fc.h.start:
		return 0
	case t >= fc.h.end:
		return fc.n
	case fc.h.state == StateOpen:
		if fc.live == nil {
			return 0
		}
		return fc.live.before(t)
	}
	if fc.marked {
		if n, ok := fc.counts.before(fc.h.start, t); ok {
			return n
		}
	}
	if fc.seek == nil {
		fc.seek = fc.sm.seekValue(fc.k)
	}
	it := seekIter{r: valueReader{b: fc.seek}, prev: fc.h.start / 1e3}
	n := 0
	for m := it.begin(); m > 0; m-- {
		us, ok := it.next()
		if !ok || us*1e3 >= t {
			break
		}
		n++
	}
	return min(n, fc.n)
}

// seekValue returns the seek table stored under k, or nil.
func (sm *summer) seekValue(k []byte) []byte {
	ck, cv := sm.seek.Seek(k)
	if !bytes.Equal(ck, k) {
		return nil
	}
	return cv
}

// seekIter reads the fragment starts of a seek table (see encodeSeek)
// without allocating.
type seekIter struct {
	r    valueReader
	prev int64 // the last start, Unix µs
}

// begin reads the header and returns the fragment count (0 when the table
// does not decode).
func (it *seekIter) begin() uint64 {
	if it.r.byte() != seekValueVersion {
		return 0
	}
	n := it.r.uvarint()
	if it.r.err != nil || n > maxFragments {
		return 0
	}
	return n
}

// next returns the next fragment's start in Unix µs.
func (it *seekIter) next() (int64, bool) {
	flags := it.r.byte()
	it.prev += it.r.varint()
	it.r.uvarint() // duration
	it.r.uvarint() // size
	if flags&2 != 0 {
		it.r.uvarint() // offset
	}
	return it.prev, it.r.err == nil
}
