package storage

import (
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

// FuzzDecodeSegHead feeds arbitrary index values to retention's head
// decoder: it must not panic, must stay within parseAlloc, and on every
// value decodeSegment accepts it must agree with it.
func FuzzDecodeSegHead(f *testing.F) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, info := range []SegmentInfo{
		{Start: start, End: start.Add(10 * time.Minute), File: "recordings/a/2026-11-25/100000.000Z.mp4",
			Bytes: 300 << 20, State: StateSealed, Tracks: []string{"avc1 1920x1080", "mp4a 48000/2"}},
		{Start: start, End: start, File: "recordings/a/2026-11-25/100000.000Z.mp4", Bytes: 900, State: StateOpen},
		{Start: time.Unix(0, -1), End: time.Unix(0, 1<<62), Bytes: 1 << 62, State: StateSealed},
	} {
		f.Add(encodeSegment(&info))
	}
	f.Add([]byte{1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Add([]byte{1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, v []byte) {
		var h segHead
		var ok bool
		alloctest.Check(t, parseAlloc, len(v), func() { h, ok = decodeSegHead(v) })
		info, err := decodeSegment("cam", v)
		if err != nil {
			return
		}
		if !ok || h.state != info.State || h.start != info.Start.UnixNano() || h.end != info.End.UnixNano() ||
			h.bytes != info.Bytes {
			t.Fatalf("head %+v (ok %v), full decode %+v", h, ok, info)
		}
	})
}

func BenchmarkDecodeSegHead(b *testing.B) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	v := encodeSegment(&SegmentInfo{Start: start, End: start.Add(10 * time.Minute),
		File: "recordings/a/2026-11-25/100000.000Z.mp4", Bytes: 300 << 20, State: StateSealed,
		Tracks: []string{"avc1 1920x1080", "mp4a 48000/2"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodeSegHead(v); !ok {
			b.Fatal("not decoded")
		}
	}
}
