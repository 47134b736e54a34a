package fmp4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// Boxes for hand-made fragments in the layouts other muxers use.

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func box(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(append(u32(uint32(8+len(body))), typ...), body...)
}

func tfhd(flags, id uint32, fields ...uint32) []byte {
	b := append(u32(flags), u32(id)...)
	for _, f := range fields {
		b = append(b, u32(f)...)
	}
	return box("tfhd", b)
}

func tfdt0(dts uint32) []byte { return box("tfdt", u32(0), u32(dts)) }

func trun(version byte, flags uint32, count uint32, fields ...uint32) []byte {
	b := append(u32(uint32(version)<<24|flags), u32(count)...)
	for _, f := range fields {
		b = append(b, u32(f)...)
	}
	return box("trun", b)
}

var mfhd = box("mfhd", u32(0), u32(1))

// moofSize returns the size of a moof, so data offsets can be computed from
// a first build with offset 0.
func moofSize(moof []byte) uint32 { return uint32(len(moof)) }

type sampleWant struct {
	track uint32
	dts   uint64
	cto   int32
	key   bool
	data  string
}

func TestParseFragmentVariants(t *testing.T) {
	const nonSync = 0x01010000
	mdat := box("mdat", []byte("aaaabbbbcccc"))
	tests := []struct {
		name string
		frag func() []byte
		want []sampleWant
	}{{
		name: "tfhd defaults, trun v0, no prft",
		frag: func() []byte {
			mk := func(off uint32) []byte {
				return box("moof", mfhd, box("traf", tfhd(0x020038, 1, 1024, 4, nonSync), tfdt0(100),
					trun(0, 0x000005, 3, off, 0x02000000)))
			}
			return append(mk(moofSize(mk(0))+8), mdat...)
		},
		want: []sampleWant{{1, 100, 0, true, "aaaa"}, {1, 1124, 0, false, "bbbb"}, {1, 2148, 0, false, "cccc"}},
	}, {
		name: "implicit base offsets across trafs, free and skip boxes",
		frag: func() []byte {
			mk := func(off uint32) []byte {
				return box("moof", mfhd, box("free"),
					box("traf", tfhd(0x000018, 1, 10, 8), box("skip", []byte{1, 2}), tfdt0(5), trun(0, 0x000001, 1, off)),
					box("traf", tfhd(0x000018, 2, 20, 4), tfdt0(7), trun(1, 0x000800, 1, uint32(0xfffffff6))))
			}
			m := mk(0)
			return bytes.Join([][]byte{box("free", []byte("x")), mk(moofSize(m) + 16), box("skip"), mdat}, nil)
		},
		want: []sampleWant{{1, 5, 0, true, "aaaabbbb"}, {2, 7, -10, true, "cccc"}},
	}, {
		name: "two truns, second continues, tracks interleaved in mdat",
		frag: func() []byte {
			mk := func(off uint32) []byte {
				return box("moof", mfhd,
					box("traf", tfhd(0x020018, 1, 10, 2), tfdt0(0),
						trun(0, 0x000001, 1, off), trun(0, 0x000001, 1, off+10)),
					box("traf", tfhd(0x020018, 2, 10, 2), tfdt0(0),
						trun(0, 0x000001, 2, off+4), trun(0, 0, 1)))
			}
			return append(mk(moofSize(mk(0))+8), mdat...)
		},
		want: []sampleWant{{1, 0, 0, true, "aa"}, {2, 0, 0, true, "bb"}, {2, 10, 0, true, "bb"},
			{2, 20, 0, true, "cc"}, {1, 10, 0, true, "cc"}},
	}, {
		name: "largesize mdat and tfdt v1",
		frag: func() []byte {
			body := []byte("xyzw")
			big := append(append(u32(1), "mdat"...), binary.BigEndian.AppendUint64(nil, uint64(16+len(body)))...)
			big = append(big, body...)
			mk := func(off uint32) []byte {
				tfdt1 := box("tfdt", u32(1<<24), binary.BigEndian.AppendUint64(nil, 1<<40))
				return box("moof", mfhd, box("traf", tfhd(0x020000, 3), tfdt1, trun(1, 0x000201, 1, off, 4)))
			}
			return append(mk(moofSize(mk(0))+16), big...)
		},
		want: []sampleWant{{3, 1 << 40, 0, true, "xyzw"}},
	}}
	var p fmp4.ParsedFragment
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.frag()
			if err := fmp4.ParseFragment(b, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Samples) != len(tc.want) {
				t.Fatalf("%d samples, want %d: %+v", len(p.Samples), len(tc.want), p.Samples)
			}
			for i, w := range tc.want {
				g := p.Samples[i]
				if g.TrackID != w.track || g.DTS != w.dts || g.CTO != w.cto || g.Key != w.key || string(g.Data) != w.data {
					t.Errorf("sample %d = %+v %q, want %+v", i, g, g.Data, w)
				}
			}
		})
	}
}

func TestParseFragmentErrors(t *testing.T) {
	good := fmp4.AppendFragment(nil, 1, 0, time.Unix(1e9, 0),
		[]fmp4.TrackFragment{h264Track(1, 0, 3), aacTrack(2, 0, 2)})
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// Offsets in good: prft 0..32, moof header 32, mfhd 40, traf 56, tfhd 64,
	// tfhd flags 72..76, tfdt 80, trun 100 (version/flags 108, count 112, data offset 116).
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"only prft", good[:32]},
		{"mdat before moof", append(box("mdat", []byte("abcd")), good[32:]...)},
		{"data offset past mdat", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[116:], 1<<20); return b })},
		{"data offset into moof", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[116:], 8); return b })},
		{"huge sample count", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[112:], 1<<30); return b })},
		{"base-data-offset", mutate(func(b []byte) []byte { b[75] |= 1; return b })},
		{"no tfdt", mutate(func(b []byte) []byte { copy(b[84:88], "free"); return b })},
		{"box size zero-length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[64:], 3); return b })},
		{"overlapping samples", mutate(func(b []byte) []byte {
			// Point the audio track's data at the video's.
			audioTrun := 56 + int(binary.BigEndian.Uint32(b[56:])) + 8 + 16 + 20
			binary.BigEndian.PutUint32(b[audioTrun+16:], binary.BigEndian.Uint32(b[116:]))
			return b
		})},
	}
	var p fmp4.ParsedFragment
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fmp4.ParseFragment(tc.b, &p)
			if !errors.Is(err, fmp4.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if len(p.Samples) != 0 {
				t.Errorf("%d samples left after error", len(p.Samples))
			}
		})
	}
}

// TestParseFragmentTracksReversed has the second track's data first in
// mdat, as 2 × 4000 one-byte samples: the samples come back in mdat order,
// each track's in decode order. The parser once sorted them with an
// insertion sort, quadratic here: 40 s for 2 × 32,000 samples, a 64 KB
// fragment that a disk error could make.
func TestParseFragmentTracksReversed(t *testing.T) {
	const n = 4000
	mk := func(off uint32) []byte {
		return box("moof", mfhd,
			box("traf", tfhd(0x020018, 1, 10, 1), tfdt0(0), trun(0, 0x000001, n, off+n)),
			box("traf", tfhd(0x020018, 2, 10, 1), tfdt0(0), trun(0, 0x000001, n, off)))
	}
	data := append(bytes.Repeat([]byte{2}, n), bytes.Repeat([]byte{1}, n)...)
	b := append(mk(moofSize(mk(0))+8), box("mdat", data)...)
	var p fmp4.ParsedFragment
	if err := fmp4.ParseFragment(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Samples) != 2*n {
		t.Fatalf("%d samples", len(p.Samples))
	}
	for i, s := range p.Samples {
		track, dts := uint32(2-i/n), uint64(10*(i%n))
		if s.TrackID != track || s.DTS != dts || len(s.Data) != 1 || s.Data[0] != byte(track) {
			t.Fatalf("sample %d = %+v, want track %d dts %d", i, s, track, dts)
		}
	}
}

// TestParseFragmentHeaderErrors cuts a fragment's headers short: the
// header reader refuses every cut before the mdat payload, never reading past
// the bytes it was given (the panic this test found: a cut prft was parsed
// after the walk had failed).
func TestParseFragmentHeaderErrors(t *testing.T) {
	tracks := []fmp4.TrackFragment{h264Track(1, 0, 3), aacTrack(2, 0, 2)}
	good := fmp4.AppendFragment(nil, 1, 0, time.Unix(1e9, 0), tracks)
	var p fmp4.ParsedFragment
	for n := range fmp4.HeaderSize(tracks) {
		err := fmp4.ParseFragmentHeader(good[:n], len(good), &p)
		if !errors.Is(err, fmp4.ErrMalformed) || len(p.Samples) != 0 {
			t.Fatalf("%d of %d header bytes: err %v, %d samples", n, fmp4.HeaderSize(tracks), err, len(p.Samples))
		}
	}
	if err := fmp4.ParseFragmentHeader(good, len(good)+1, &p); !errors.Is(err, fmp4.ErrMalformed) {
		t.Errorf("a byte past the mdat: err %v", err)
	}
}

// BenchmarkParseFragment parses one second of 3 Mbit/s H.264 (25 frames of
// 15 kB) with 48 kHz AAC.
func BenchmarkParseFragment(b *testing.B) {
	video := trackOf(1, 90000*7, 25, 3600, func(i int) (int, int32, bool) {
		size, cto, key := h264NegativeCTO(i)
		return size - 700 + 15000, cto, key
	})
	frag := fmp4.AppendFragment(nil, 1, 0, time.Now(), []fmp4.TrackFragment{video, aacTrack(2, 48000*7+17, 47)})
	b.Run("reuse", func(b *testing.B) {
		var p fmp4.ParsedFragment
		b.ReportAllocs()
		b.SetBytes(int64(len(frag)))
		for b.Loop() {
			if err := fmp4.ParseFragment(frag, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frag)))
		for b.Loop() {
			var p fmp4.ParsedFragment
			if err := fmp4.ParseFragment(frag, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
