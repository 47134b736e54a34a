package liveview_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/api/liveview"
	"github.com/camvault/camvault/media"
)

// TestMuxerFragments feeds units of a video and an audio track and reads
// the bytes back with storage/fmp4 and mp4ff: one fragment per unit, each
// sent when the next unit of its track arrives, with the decode time it
// was given, the distance to the next as its duration (the cached frames
// one tick apart, a lost audio frame stretching the one before, a gap of
// more than maxSampleSeconds keeping the previous duration), keyframe
// flags, sequence numbers 1, 2, ..., and an init segment that mp4ff reads
// as avc1 and mp4a tracks of the tracks' timescales.
func TestMuxerFragments(t *testing.T) {
	video, audio := h264Track(true), aacTrack()
	m := liveview.NewMuxer([]*media.Track{video, audio})
	if !m.Ready() {
		t.Fatal("muxer of ready tracks is not ready")
	}
	mime, init, err := m.Init()
	if err != nil {
		t.Fatal(err)
	}
	if want := `video/mp4; codecs="avc1.64001F,mp4a.40.2"`; mime != want {
		t.Errorf("mime %q, want %q", mime, want)
	}
	type in struct {
		k   int
		dts int64
		u   media.Unit
	}
	v := func(dts int64, key bool, tag byte) in {
		data := pFrame(500, tag)
		if key {
			data = idr(2000, tag)
		}
		return in{0, dts, media.Unit{Data: data, Key: key}}
	}
	a := func(dts int64, tag byte) in {
		return in{1, dts, media.Unit{Data: bytes.Repeat([]byte{tag}, 300), Key: true, Duration: 1024}}
	}
	const gap = 7202 + 5*90000
	inputs := []in{
		v(0, true, 1), v(1, false, 2), v(2, false, 3), // the cached frames, one tick apart
		a(100, 50), v(3602, false, 4), a(1124, 51), a(2148, 52),
		v(7202, false, 5), a(4196, 53), // an audio frame lost before 4196
		v(gap, true, 6), v(gap+3600, false, 7),
	}
	want := []fragment{
		{track: 1, dts: 0, duration: 1, key: true, data: inputs[0].u.Data},
		{track: 1, dts: 1, duration: 1, data: inputs[1].u.Data},
		{track: 1, dts: 2, duration: 3600, data: inputs[2].u.Data},
		{track: 2, dts: 100, duration: 1024, key: true, data: inputs[3].u.Data},
		{track: 2, dts: 1124, duration: 1024, key: true, data: inputs[5].u.Data},
		{track: 1, dts: 3602, duration: 3600, data: inputs[4].u.Data},
		{track: 2, dts: 2148, duration: 2048, key: true, data: inputs[6].u.Data},
		{track: 1, dts: 7202, duration: 3600, data: inputs[7].u.Data}, // before the gap: the duration before
		{track: 1, dts: gap, duration: 3600, key: true, data: inputs[9].u.Data},
	}
	stream := slices.Clone(init)
	var got []fragment
	for _, x := range inputs {
		if f := m.Add(x.k, x.dts, 0, x.u); f != nil {
			got = append(got, parseFragment(t, f))
			stream = append(stream, f...)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d fragments, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.track != w.track || g.dts != w.dts || g.duration != w.duration || g.key != w.key || g.cto != 0 ||
			!bytes.Equal(g.data, w.data) {
			t.Errorf("fragment %d: track %d dts %d duration %d key %v cto %d, %d bytes; want track %d dts %d duration %d key %v, %d bytes",
				i, g.track, g.dts, g.duration, g.key, g.cto, len(g.data), w.track, w.dts, w.duration, w.key, len(w.data))
		}
	}
	checkWithMP4ff(t, stream, len(want))
}

// checkWithMP4ff decodes init and fragments as one file with mp4ff: the
// init's tracks and one moof (with its mdat) per fragment, numbered from 1.
func checkWithMP4ff(t *testing.T, stream []byte, fragments int) {
	t.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(stream))
	if err != nil {
		t.Fatalf("mp4ff: %v", err)
	}
	if f.Init == nil || len(f.Init.Moov.Traks) != 2 || f.Init.Moov.Mvex == nil {
		t.Fatal("mp4ff finds no init segment of two tracks with mvex")
	}
	for i, want := range []struct {
		timescale uint32
		entry     string
	}{{90000, "avc1"}, {48000, "mp4a"}} {
		trak := f.Init.Moov.Traks[i]
		if ts := trak.Mdia.Mdhd.Timescale; ts != want.timescale {
			t.Errorf("track %d timescale %d, want %d", i+1, ts, want.timescale)
		}
		if e := trak.Mdia.Minf.Stbl.Stsd.Children[0].Type(); e != want.entry {
			t.Errorf("track %d sample entry %s, want %s", i+1, e, want.entry)
		}
	}
	var seqs []uint32
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			if frag.Mdat == nil || len(frag.Moof.Trafs) != 1 {
				t.Fatalf("fragment %d: mdat %v, %d trafs", len(seqs), frag.Mdat != nil, len(frag.Moof.Trafs))
			}
			seqs = append(seqs, frag.Moof.Mfhd.SequenceNumber)
		}
	}
	if len(seqs) != fragments {
		t.Fatalf("mp4ff finds %d fragments, want %d", len(seqs), fragments)
	}
	for i, s := range seqs {
		if s != uint32(i+1) {
			t.Fatalf("sequence numbers %v, want 1, 2, ...", seqs)
		}
	}
}

// TestMuxerAllocations: once its buffers have grown, Add allocates nothing.
func TestMuxerAllocations(t *testing.T) {
	m := liveview.NewMuxer([]*media.Track{h264Track(true), aacTrack()})
	frame, au := media.Unit{Data: pFrame(20000, 1)}, media.Unit{Data: make([]byte, 400), Key: true, Duration: 1024}
	var dts, adts int64
	add := func() {
		dts += 3600
		adts += 1024
		m.Add(0, dts, 0, frame)
		m.Add(1, adts, 0, au)
	}
	add()
	add()
	if n := testing.AllocsPerRun(100, add); n != 0 {
		t.Errorf("Add: %v allocations per frame, want 0", n)
	}
}

// BenchmarkMuxerAdd is the per-frame muxing path: one 20 KB video frame
// and two AAC frames in, their fragments out.
func BenchmarkMuxerAdd(b *testing.B) {
	m := liveview.NewMuxer([]*media.Track{h264Track(true), aacTrack()})
	frame, au := media.Unit{Data: pFrame(20000, 1)}, media.Unit{Data: make([]byte, 400), Key: true, Duration: 1024}
	var dts, adts int64
	b.ReportAllocs()
	b.SetBytes(int64(len(frame.Data) + 2*len(au.Data)))
	for b.Loop() {
		dts += 3600
		m.Add(0, dts, 0, frame)
		adts += 1024
		m.Add(1, adts, 0, au)
		adts += 1024
		m.Add(1, adts, 0, au)
	}
}
