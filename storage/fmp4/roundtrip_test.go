package fmp4_test

import (
	"bytes"
	"testing"

	"github.com/camvault/camvault/storage/fmp4"
)

// TestRoundTrip writes every case and reads it back with ParseFragment and
// ParseFragmentHeader: the same samples, decode times, offsets, flags and
// bytes, the prft's wall clock to the nanosecond and its reference track.
func TestRoundTrip(t *testing.T) {
	var p fmp4.ParsedFragment // reused across cases, as playback does
	for _, tc := range fragmentCases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.encode()
			checkEncoding(t, &tc, b)
			if err := fmp4.ParseFragment(b, &p); err != nil {
				t.Fatal(err)
			}
			checkParsed(t, &tc, &p, true)
			hdr := fmp4.HeaderSize(tc.tracks)
			if err := fmp4.ParseFragmentHeader(b[:hdr], len(b), &p); err != nil {
				t.Fatalf("header only: %v", err)
			}
			checkParsed(t, &tc, &p, false)
		})
	}
}

// checkEncoding checks what the writer's entry points agree on: the sizes
// FragmentSize and HeaderSize predict, and AppendFragmentHeader followed by
// the data.
func checkEncoding(t *testing.T, tc *fragmentCase, b []byte) {
	t.Helper()
	if n := fmp4.FragmentSize(tc.tracks); n != len(b) {
		t.Errorf("FragmentSize %d, wrote %d bytes", n, len(b))
	}
	split := fmp4.AppendFragmentHeader(nil, tc.seq, tc.ref, caseWall, tc.tracks)
	if len(split) != fmp4.HeaderSize(tc.tracks) {
		t.Errorf("HeaderSize %d, AppendFragmentHeader wrote %d bytes", fmp4.HeaderSize(tc.tracks), len(split))
	}
	moof := fmp4.AppendMoof(nil, tc.seq, tc.tracks)
	if len(moof) != fmp4.MoofSize(tc.tracks) || !bytes.HasSuffix(split, moof) {
		t.Errorf("AppendMoof wrote %d bytes (MoofSize %d), not the header less its prft",
			len(moof), fmp4.MoofSize(tc.tracks))
	}
	for _, tf := range tc.tracks {
		split = append(split, tf.Data...)
		moof = append(moof, tf.Data...)
	}
	if !bytes.Equal(split, b) {
		t.Error("AppendFragmentHeader + data differs from AppendFragment")
	}
	var p fmp4.ParsedFragment
	if err := fmp4.ParseFragment(moof, &p); err != nil || !p.Wall.IsZero() || len(p.Samples) != sampleCount(tc) {
		t.Errorf("AppendMoof + data parses to %d samples, wall %v, err %v", len(p.Samples), p.Wall, err)
	}
}

func sampleCount(tc *fragmentCase) int {
	n := 0
	for _, tf := range tc.tracks {
		n += len(tf.Samples)
	}
	return n
}

// checkParsed compares p with the case's samples, track after track in mdat
// order; withData also compares the sample bytes (ParseFragment).
func checkParsed(t *testing.T, tc *fragmentCase, p *fmp4.ParsedFragment, withData bool) {
	t.Helper()
	if want := fmp4.NTPToTime(fmp4.NTPTime(caseWall)); !p.Wall.Equal(want) || !p.Wall.Equal(caseWall) {
		t.Errorf("wall %v, want %v", p.Wall, caseWall)
	}
	if want := tc.tracks[tc.ref].TrackID; p.RefTrack != want {
		t.Errorf("reference track %d, want %d", p.RefTrack, want)
	}
	i := 0
	for _, tf := range tc.tracks {
		dts, off := tf.BaseDecodeTime, 0
		for _, s := range tf.Samples {
			if i >= len(p.Samples) {
				t.Fatalf("only %d samples", len(p.Samples))
			}
			got, data := p.Samples[i], tf.Data[off:off+int(s.Size)]
			if got.TrackID != tf.TrackID || got.DTS != dts || got.CTO != s.CTO || got.Duration != s.Duration ||
				got.Size != s.Size || got.Key != s.Key {
				t.Fatalf("sample %d = %+v, want track %d dts %d %+v", i, got, tf.TrackID, dts, s)
			}
			if withData && !bytes.Equal(got.Data, data) || !withData && got.Data != nil {
				t.Fatalf("sample %d: %d bytes of data, want %d (with data %v)", i, len(got.Data), len(data), withData)
			}
			dts += uint64(s.Duration)
			off += int(s.Size)
			i++
		}
	}
	if i != len(p.Samples) {
		t.Errorf("%d samples, want %d", len(p.Samples), i)
	}
}

// TestAllocations holds the hot paths to what they allocated before the
// codec had its own package: nothing to write a fragment into a buffer with
// room for it (the recorder's path) or to parse one into a reused
// ParsedFragment (playback's).
func TestAllocations(t *testing.T) {
	for _, tc := range fragmentCases {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, 0, fmp4.FragmentSize(tc.tracks))
			if n := testing.AllocsPerRun(20, func() {
				dst = fmp4.AppendFragment(dst[:0], tc.seq, tc.ref, caseWall, tc.tracks)
			}); n != 0 {
				t.Errorf("AppendFragment: %v allocations", n)
			}
			var p fmp4.ParsedFragment
			if err := fmp4.ParseFragment(dst, &p); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(20, func() { _ = fmp4.ParseFragment(dst, &p) }); n != 0 {
				t.Errorf("ParseFragment into a reused ParsedFragment: %v allocations", n)
			}
		})
	}
}
