package storage

import (
	"encoding/binary"
	"time"
)

// A sealed entry's value ends with fragment counts, so that Summaries can
// count a segment's fragments per bucket without reading its seek table:
//
//	... tracks | nfrag(uvarint) nmarks(uvarint) {before(uvarint)}
//
// Mark k is the k-th instant after start and before end that is a multiple
// of countMark in Unix time; before is how many fragments start before it.
// Every hour and midnight of a time zone whose offset is a multiple of 15
// minutes (all of today's) is a mark. A segment with more than maxMarks
// marks stores none. decodeSegment ignores these bytes, and an entry
// without them (written before they existed, or open) is counted from its
// seek table.
const (
	countMark = int64(15 * time.Minute)
	maxMarks  = 96 // a day of segment
)

// appendFragCounts appends the counts of a sealed segment with frags
// (sorted by start) to its encoded value v.
func appendFragCounts(v []byte, info *SegmentInfo, frags []Fragment) []byte {
	v = binary.AppendUvarint(v, uint64(len(frags)))
	start, end := info.Start.UnixNano(), info.End.UnixNano()
	first := firstMark(start)
	n := int64(0)
	if end > first {
		n = (end - first + countMark - 1) / countMark
	}
	if n > maxMarks {
		n = 0
	}
	v = binary.AppendUvarint(v, uint64(n))
	i := 0
	for m := range n {
		t := first + m*countMark
		for i < len(frags) && frags[i].Start.UnixNano() < t {
			i++
		}
		v = binary.AppendUvarint(v, uint64(i))
	}
	return v
}

// firstMark returns the first mark after start.
func firstMark(start int64) int64 {
	q := start / countMark * countMark
	if q <= start {
		q += countMark
	}
	return q
}

// fragCounts is the count tail of a sealed entry's value.
type fragCounts struct {
	n     int
	marks valueReader // the before values
	nmark int
}

// decodeFragCounts finds the counts at the end of value v; ok is false
// when v has none or they do not decode. It skips File and Tracks without
// copying them (a hot path of Summaries: plain slicing, no sticky reader).
func decodeFragCounts(v []byte) (c fragCounts, ok bool) {
	if len(v) < segHeadMin {
		return c, false
	}
	p := skipTracks(v)
	if v[0] == segValueVersionTier {
		p = skipTierExt(v, p)
	}
	if p < 0 || p >= len(v) {
		return c, false
	}
	n, w1 := binary.Uvarint(v[p:])
	if w1 <= 0 {
		return c, false
	}
	nm, w2 := binary.Uvarint(v[p+w1:])
	if w2 <= 0 || n > maxFragments || nm > maxMarks {
		return c, false
	}
	return fragCounts{n: int(n), marks: valueReader{b: v, pos: p + w1 + w2}, nmark: int(nm)}, true
}

// skipUvarint returns the position after the uvarint at v[p:], or -1.
func skipUvarint(v []byte, p int) int {
	for p >= 0 && p < len(v) {
		if v[p] < 0x80 {
			return p + 1
		}
		p++
	}
	return -1
}

// skipString returns the position after the string written by
// appendString at v[p:], or -1.
func skipString(v []byte, p int) int {
	if p < 0 || p >= len(v) {
		return -1
	}
	n, w := binary.Uvarint(v[p:])
	if w <= 0 || n > maxStringLen || n > uint64(len(v)-p-w) {
		return -1
	}
	return p + w + int(n)
}

// before returns how many fragments of the segment that starts at start
// begin before instant t, a mark; ok is false when t is not one of its
// stored marks.
func (c *fragCounts) before(start, t int64) (int, bool) {
	if t%countMark != 0 {
		return 0, false
	}
	k := (t - firstMark(start)) / countMark
	if k < 0 || k >= int64(c.nmark) {
		return 0, false
	}
	r := c.marks
	var n uint64
	for range k + 1 {
		n = r.uvarint()
	}
	if r.err != nil || n > uint64(c.n) {
		return 0, false
	}
	return int(n), true
}

// skipFragCounts reads a count tail to the end of the value, failing r
// when it does not decode or does not end the value.
func (r *valueReader) skipFragCounts() {
	n, nm := r.uvarint(), r.uvarint()
	if n > maxFragments || nm > maxMarks {
		r.fail()
	}
	for i := uint64(0); i < nm && r.err == nil; i++ {
		if r.uvarint() > n {
			r.fail()
		}
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail()
	}
}
