package fmp4_test

import (
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/storage/fmp4"
)

// parseAlloc is the allocation bound of FuzzParseFragment (alloctest.Check):
// a parse of n bytes may allocate at most 64 KiB + 64 bytes per input byte.
// A reused ParsedFragment grows by at most one sample (64 bytes with its
// offset) per 4-byte trun entry, and an error costs one message.
var parseAlloc = alloctest.Bound{Base: 64 << 10, PerByte: 64}

// FuzzParseFragment feeds arbitrary fragments to ParseFragment and
// ParseFragmentHeader, seeded with every case of fragmentCases: no panic; on
// success at most MaxFragmentSamples samples, each one's Data a
// capacity-limited window of b inside it, and no two samples sharing bytes,
// and the header reader finds the same samples; on error no samples; always
// within parseAlloc.
func FuzzParseFragment(f *testing.F) {
	for _, tc := range fragmentCases {
		f.Add(tc.encode())
	}
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'f', 0, 0, 0, 0, 'm', 'd', 'a', 't'})
	var p, h fmp4.ParsedFragment
	f.Fuzz(func(t *testing.T, b []byte) {
		var err error
		alloctest.Check(t, parseAlloc, len(b), func() { err = fmp4.ParseFragment(b, &p) })
		if err != nil {
			if len(p.Samples) != 0 {
				t.Fatalf("error %v with %d samples", err, len(p.Samples))
			}
			return
		}
		checkWindows(t, b, &p)
		alloctest.Check(t, parseAlloc, len(b), func() { err = fmp4.ParseFragmentHeader(b, len(b), &h) })
		if err != nil {
			t.Fatalf("header reader refused what ParseFragment accepted: %v", err)
		}
		checkSameSamples(t, &p, &h)
		// Without the sample bytes, the header reader fails (a box after
		// the mdat) or finds the same samples.
		if offs := p.Offsets(); len(offs) > 0 {
			if fmp4.ParseFragmentHeader(b[:offs[0]], len(b), &h) == nil {
				checkSameSamples(t, &p, &h)
			}
		}
	})
}

// checkSameSamples checks that the header reader's h holds p's samples
// without their data.
func checkSameSamples(t *testing.T, p, h *fmp4.ParsedFragment) {
	t.Helper()
	if len(h.Samples) != len(p.Samples) || !h.Wall.Equal(p.Wall) || h.RefTrack != p.RefTrack {
		t.Fatalf("header reader: %d samples, wall %v, ref %d; want %d, %v, %d",
			len(h.Samples), h.Wall, h.RefTrack, len(p.Samples), p.Wall, p.RefTrack)
	}
	for i := range p.Samples {
		ps, hs := p.Samples[i], h.Samples[i]
		if ps.TrackID != hs.TrackID || ps.DTS != hs.DTS || ps.CTO != hs.CTO || ps.Duration != hs.Duration ||
			ps.Size != hs.Size || ps.Key != hs.Key || hs.Data != nil {
			t.Fatalf("header reader: sample %d = %+v, want %+v", i, hs, ps)
		}
	}
}

// checkWindows checks that p's samples are disjoint, ordered windows of b.
func checkWindows(t *testing.T, b []byte, p *fmp4.ParsedFragment) {
	t.Helper()
	offs := p.Offsets()
	if len(p.Samples) > fmp4.MaxFragmentSamples || len(offs) != len(p.Samples) {
		t.Fatalf("%d samples, %d offsets", len(p.Samples), len(offs))
	}
	next := 0
	for i, s := range p.Samples {
		off := offs[i]
		if off < next || off+len(s.Data) > len(b) || cap(s.Data) != len(s.Data) || len(s.Data) != int(s.Size) {
			t.Fatalf("sample %d: [%d,+%d) cap %d size %d, previous end %d, fragment %d bytes",
				i, off, len(s.Data), cap(s.Data), s.Size, next, len(b))
		}
		if len(s.Data) > 0 && &s.Data[0] != &b[off] {
			t.Fatalf("sample %d does not alias the fragment", i)
		}
		next = off + len(s.Data)
	}
}
