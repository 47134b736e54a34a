package storage

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

// seedHold is a valid stored hold.
func seedHold() StoredHold {
	t := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return StoredHold{ID: "AAAAAAAAAAAAAAAAAAAAAA", Camera: "cam", From: t, To: t.Add(time.Hour),
		Reason: "incident 4711", Created: t.Add(2 * time.Hour)}
}

// FuzzDecodeHold feeds arbitrary index values of the holds bucket to the
// decoder: no panic, allocations within parseAlloc, and what it accepts
// re-encodes to the same bytes.
func FuzzDecodeHold(f *testing.F) {
	h := seedHold()
	f.Add([]byte(h.ID), encodeHold(&h))
	h.To = time.Time{}
	f.Add([]byte(h.ID), encodeHold(&h))
	f.Add([]byte("x"), []byte{1})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		var got StoredHold
		var err error
		alloctest.Check(t, parseAlloc, len(k)+len(v), func() { got, err = decodeHold(k, v) })
		if err != nil {
			return
		}
		if again := encodeHold(&got); !bytes.Equal(again, v) {
			t.Fatalf("re-encode %x, want %x", again, v)
		}
	})
}

// FuzzDecodeHoldsFile feeds arbitrary recordings/.camvault-holds content to
// its parser: no panic, allocations within parseAlloc, and every hold it
// returns re-encodes to a value that decodes to the same hold.
func FuzzDecodeHoldsFile(f *testing.F) {
	h := seedHold()
	good := appendString(appendString([]byte(holdsMagic), h.ID), string(encodeHold(&h)))
	f.Add(good)
	f.Add([]byte(holdsMagic))
	f.Add(append(bytes.Clone(good), 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		var holds []StoredHold
		var err error
		alloctest.Check(t, parseAlloc, len(data), func() { holds, err = decodeHoldsFile(data) })
		if err != nil {
			return
		}
		for _, h := range holds {
			if again, err := decodeHold([]byte(h.ID), encodeHold(&h)); err != nil || again != h {
				t.Fatalf("hold %+v re-decodes as %+v, %v", h, again, err)
			}
		}
	})
}

// FuzzFragCounts feeds arbitrary segment values to the count-tail reader
// that Summaries uses: no panic, allocations within parseAlloc, and a count before a mark
// never exceeds the segment's fragments.
//
// Crashers: 182a4fb401185659, a value whose bytes field runs to its end,
// made decodeFragCounts slice from -1 (fixed: the position is checked
// before the track count is read).
func FuzzFragCounts(f *testing.F) {
	start := time.Date(2026, 11, 25, 10, 3, 17, 0, time.UTC)
	info := SegmentInfo{Start: start, End: start.Add(40 * time.Minute), File: "recordings/cam/x.mp4", Bytes: 1000,
		State: StateSealed, Tracks: []string{"avc1 1280x720"}}
	var frags []Fragment
	for i := range 40 {
		frags = append(frags, Fragment{Start: start.Add(time.Duration(i) * time.Minute), Duration: time.Minute, Size: 25})
	}
	f.Add(appendFragCounts(encodeSegment(&info), &info, frags))
	f.Add(encodeSegment(&info))
	f.Fuzz(func(t *testing.T, v []byte) {
		var c fragCounts
		var ok bool
		alloctest.Check(t, parseAlloc, len(v), func() { c, ok = decodeFragCounts(v) })
		if !ok {
			return
		}
		segStart := int64(binary.BigEndian.Uint64(v[2:]))
		for i := range int64(maxMarks + 1) {
			m := firstMark(segStart) + i*countMark
			if n, ok := c.before(segStart, m); ok && n > c.n {
				t.Fatalf("%d fragments before %d, of %d", n, m, c.n)
			}
		}
	})
}
