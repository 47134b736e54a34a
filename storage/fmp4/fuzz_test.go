package fmp4

import (
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

// parseAlloc is the allocation bound of FuzzParseFragment (alloctest.Check):
// a parse of n bytes may allocate at most 64 KiB + 64 bytes per input byte
// (the sample table grows with the trun entries, 16 bytes each at most).
var parseAlloc = alloctest.Bound{Base: 64 << 10, PerByte: 64}

// FuzzParseFragment feeds arbitrary fragments to ParseFragment, seeded with
// AppendFragment output: no panic; on success at most maxFragmentSamples
// samples, each one's Data a capacity-limited window of b inside it, and no
// two samples sharing bytes; on error no samples; always within parseAlloc.
func FuzzParseFragment(f *testing.F) {
	wall := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	video := TrackFragment{TrackID: 1, BaseDecodeTime: 90000, Data: []byte("keyframe-bframe-pframe"),
		Samples: []Sample{{Duration: 3600, CTO: 7200, Size: 9, Key: true}, {Duration: 3600, CTO: -3600, Size: 7},
			{Duration: 3600, Size: 6}}}
	audio := TrackFragment{TrackID: 2, BaseDecodeTime: 48000, Data: []byte{1, 2, 3, 4},
		Samples: []Sample{{Duration: 1024, Size: 2, Key: true}, {Duration: 1024, Size: 2, Key: true}}}
	f.Add(AppendFragment(nil, 1, 0, wall, []TrackFragment{video, audio}))
	f.Add(AppendFragment(nil, 2, 0, wall, []TrackFragment{audio}))
	f.Add(AppendFragment(nil, 3, 0, wall, []TrackFragment{{TrackID: 1}, audio}))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'f', 0, 0, 0, 0, 'm', 'd', 'a', 't'})
	var p ParsedFragment
	f.Fuzz(func(t *testing.T, b []byte) {
		var err error
		alloctest.Check(t, parseAlloc, len(b), func() { err = ParseFragment(b, &p) })
		if err != nil {
			if len(p.Samples) != 0 {
				t.Fatalf("error %v with %d samples", err, len(p.Samples))
			}
			return
		}
		if len(p.Samples) > maxFragmentSamples || len(p.offsets) != len(p.Samples) {
			t.Fatalf("%d samples, %d offsets", len(p.Samples), len(p.offsets))
		}
		next := 0
		for i, s := range p.Samples {
			off := p.offsets[i]
			if off < next || off+len(s.Data) > len(b) || cap(s.Data) != len(s.Data) {
				t.Fatalf("sample %d: [%d,+%d) cap %d, previous end %d, fragment %d bytes", i, off, len(s.Data), cap(s.Data), next, len(b))
			}
			if len(s.Data) > 0 && &s.Data[0] != &b[off] {
				t.Fatalf("sample %d does not alias the fragment", i)
			}
			next = off + len(s.Data)
		}
	})
}
