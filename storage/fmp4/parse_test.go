package fmp4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// avFragment builds one fragment of H.264 (track 1, 90 kHz, 25 fps, B-frame
// style composition offsets, key first) and AAC (track 2, 48 kHz) with
// distinct sample bytes: video samples of vsize bytes, audio of 370.
func avFragment(vframes, aframes, vsize int) []fmp4.TrackFragment {
	video := fmp4.TrackFragment{TrackID: 1, BaseDecodeTime: 90000 * 7}
	for i := range vframes {
		cto := int32(3600)
		if i%3 == 2 {
			cto = -3600
		}
		size := vsize + i
		video.Samples = append(video.Samples, fmp4.Sample{Duration: 3600, CTO: cto, Size: uint32(size), Key: i == 0})
		video.Data = append(video.Data, bytes.Repeat([]byte{byte(i)}, size)...)
	}
	audio := fmp4.TrackFragment{TrackID: 2, BaseDecodeTime: 48000*7 + 17}
	for i := range aframes {
		audio.Samples = append(audio.Samples, fmp4.Sample{Duration: 1024, Size: 370, Key: true})
		audio.Data = append(audio.Data, bytes.Repeat([]byte{byte(0x80 + i)}, 370)...)
	}
	return []fmp4.TrackFragment{video, audio}
}

func TestParseFragmentRoundTrip(t *testing.T) {
	wall := time.Date(2026, 11, 25, 10, 15, 0, 123456789, time.UTC)
	tracks := avFragment(25, 47, 1000)
	b := fmp4.AppendFragment(nil, 9, 0, wall, tracks)
	var p fmp4.ParsedFragment
	for round := range 2 { // the second round reuses p
		if err := fmp4.ParseFragment(b, &p); err != nil {
			t.Fatal(err)
		}
		if want := fmp4.NTPToTime(fmp4.NTPTime(wall)); !p.Wall.Equal(want) || p.Wall.Sub(wall).Abs() > time.Nanosecond {
			t.Errorf("round %d: wall %v, want %v", round, p.Wall, want)
		}
		if p.RefTrack != 1 {
			t.Errorf("ref track %d", p.RefTrack)
		}
		i := 0
		for _, tf := range tracks {
			dts, off := tf.BaseDecodeTime, 0
			for _, s := range tf.Samples {
				if i >= len(p.Samples) {
					t.Fatalf("only %d samples", len(p.Samples))
				}
				got := p.Samples[i]
				data := tf.Data[off : off+int(s.Size)]
				if got.TrackID != tf.TrackID || got.DTS != dts || got.CTO != s.CTO || got.Duration != s.Duration ||
					got.Key != s.Key || !bytes.Equal(got.Data, data) {
					t.Fatalf("sample %d = %+v (%d bytes), want track %d dts %d %+v", i, got, len(got.Data), tf.TrackID, dts, s)
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
}

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
	good := fmp4.AppendFragment(nil, 1, 0, time.Unix(1e9, 0), avFragment(3, 2, 10))
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

// BenchmarkParseFragment parses one second of 3 Mbit/s H.264 (25 frames of
// 15 kB) with 48 kHz AAC.
func BenchmarkParseFragment(b *testing.B) {
	frag := fmp4.AppendFragment(nil, 1, 0, time.Now(), avFragment(25, 47, 15000))
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
