package liveview_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api/liveview"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

// camera packetizes units into a Stream, as live hands a viewer's packets
// to its Output.
type camera struct {
	t     testing.TB
	s     *liveview.Stream
	sink  *sink // what the Stream wrote, unless made with another Sink
	clock *fakeClock
	pz    []*media.Packetizer // by stream
	src   []*media.Track      // the packetizers' tracks, with parameter sets
	// drop, when set, says which packets of a unit not to deliver (by
	// their index in the unit), as a relay that skipped would.
	drop func(i int) bool
}

// t0 is when the test camera's first packet arrives.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// newCamera returns a Stream over tracks (as live.Subscription.Tracks has
// them: H.264 without parameter sets unless given) and a packetizer of
// each, whose tracks have the parameter sets.
func newCamera(t testing.TB, tracks ...*media.Track) *camera {
	t.Helper()
	rec := &sink{}
	c := newCameraTo(t, rec, tracks...)
	c.sink = rec
	return c
}

// newCameraTo is newCamera writing to out.
func newCameraTo(t testing.TB, out liveview.Sink, tracks ...*media.Track) *camera {
	t.Helper()
	c := &camera{t: t, clock: &fakeClock{now: t0}}
	s, err := liveview.NewStream(liveview.Config{Tracks: tracks, Sink: out, Now: c.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.s = s
	for i, tr := range tracks {
		src := *tr
		if src.Codec == media.CodecH264 && src.SPS == nil {
			src.SPS, src.PPS = h264SPS, h264PPS
		}
		pz, err := media.NewPacketizer(&src, media.PacketizerConfig{PayloadType: src.PayloadType, SSRC: uint32(100 + i), InitialSeq: 1000})
		if err != nil {
			t.Fatal(err)
		}
		c.pz, c.src = append(c.pz, pz), append(c.src, &src)
	}
	return c
}

// send packetizes a unit of stream i at RTP time ts and writes its packets.
func (c *camera) send(i int, ts uint32, unit []byte, key bool) {
	c.t.Helper()
	n := 0
	err := c.pz[i].Packetize(ts, unit, key, func(pkt []byte) {
		if c.drop == nil || !c.drop(n) {
			if err := c.s.WriteRTP(i, pkt); err != nil {
				c.t.Fatalf("WriteRTP: %v", err)
			}
		}
		n++
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

// report writes a sender report of stream i: RTP time ts is wall.
func (c *camera) report(i int, wall time.Time, ts uint32) {
	c.t.Helper()
	b := []byte{0x80, 200, 0, 6}
	b = binary.BigEndian.AppendUint32(b, uint32(100+i))
	b = binary.BigEndian.AppendUint64(b, fmp4.NTPTime(wall))
	b = binary.BigEndian.AppendUint32(b, ts)
	b = append(b, make([]byte, 8)...) // packet and octet counts
	if err := c.s.WriteRTCP(i, b); err != nil {
		c.t.Fatal(err)
	}
}

// at sets the arrival time of the next packets to t0 + d.
func (c *camera) at(d time.Duration) { c.clock.now = t0.Add(d) }

// fragments returns the fragments written so far, parsed, and the MSE
// types of the init segments, in order.
func (c *camera) fragments() (frags []fragment, mimes []string) {
	c.t.Helper()
	for _, e := range c.sink.events {
		if e.frag != nil {
			frags = append(frags, parseFragment(c.t, e.frag))
		} else {
			mimes = append(mimes, e.mime)
		}
	}
	return frags, mimes
}

// video returns the DTS of track 1's fragments.
func videoDTS(frags []fragment) []uint64 {
	var out []uint64
	for _, f := range frags {
		if f.track == 1 {
			out = append(out, f.dts)
		}
	}
	return out
}

const (
	vBase = 900000 // the camera's video RTP time at wall
	aBase = 240000 // its audio RTP time at wall
)

var wall = t0.Add(-3 * time.Second) // the camera's clock (its sender reports)

// TestStreamStartsAtKeyframe: before the first keyframe (whose in-band
// parameter sets make the video track ready) nothing is written; then the
// init segment with the codecs of both played tracks, the keyframe at
// decode time 0, and audio placed on the same timeline by the sender
// reports (the G.711 track is named as skipped).
func TestStreamStartsAtKeyframe(t *testing.T) {
	c := newCamera(t, h264Track(false), aacTrack(), pcmuTrack())
	if p, s := c.s.Played(), c.s.Skipped(); !slices.Equal(p, []string{"H264", "AAC 48000 Hz"}) ||
		!slices.Equal(s, []string{"PCMU 8000 Hz: browsers do not play G.711 from MP4"}) {
		t.Fatalf("played %q, skipped %q", p, s)
	}
	c.report(0, wall, vBase)
	c.report(1, wall, aBase)
	c.send(1, aBase, make([]byte, 300), true)           // before the video is ready: dropped
	c.send(0, vBase, pFrame(800, 1), false)             // not a keyframe: dropped
	c.send(2, 0, make([]byte, 160), true)               // G.711: never played
	c.send(0, vBase+3600, idr(5000, 2), true)           // the keyframe, 40 ms after the reports
	c.at(20 * time.Millisecond)                         // arrival agrees with the reports
	c.send(1, aBase+1920+1024, make([]byte, 300), true) // 40 ms + 1024 ticks
	c.send(1, aBase+1920+2048, make([]byte, 300), true)
	c.at(40 * time.Millisecond)
	c.send(0, vBase+7200, pFrame(800, 3), false)
	frags, mimes := c.fragments()
	if want := []string{`video/mp4; codecs="avc1.64001F,mp4a.40.2"`}; !slices.Equal(mimes, want) || c.sink.events[0].mime == "" {
		t.Fatalf("init segments %q first %v, want %q first", mimes, c.sink.events[0].mime != "", want)
	}
	want := []fragment{
		{track: 2, dts: 1024, duration: 1024, key: true},
		{track: 1, dts: 0, duration: 3600, key: true},
	}
	if len(frags) != len(want) {
		t.Fatalf("fragments %+v, want %+v", frags, want)
	}
	for i, w := range want {
		if g := frags[i]; g.track != w.track || g.dts != w.dts || g.duration != w.duration || g.key != w.key {
			t.Errorf("fragment %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestStreamSyncByArrival: a sender report that disagrees with arrival by
// more than syncTolerance (2 s) is not believed; arrival places the track.
func TestStreamSyncByArrival(t *testing.T) {
	c := newCamera(t, h264Track(true), aacTrack())
	c.report(0, wall, vBase)
	c.report(1, wall.Add(10*time.Second), aBase) // a camera whose audio clock is 10 s off
	c.send(0, vBase, idr(3000, 1), true)
	c.at(500 * time.Millisecond)
	c.send(1, aBase, make([]byte, 300), true)
	c.send(1, aBase+1024, make([]byte, 300), true)
	frags, _ := c.fragments()
	if len(frags) != 1 || frags[0].track != 2 || frags[0].dts != 24000 {
		t.Fatalf("fragments %+v, want audio at 24000 (0.5 s after the video, by arrival)", frags)
	}
}

// TestStreamWaitsForKeyframeAfterLoss: a video frame that lost a packet
// (the relay skipped) is not sent, nor the frames after it until the next
// keyframe; the frame before the loss lasts until then.
func TestStreamWaitsForKeyframeAfterLoss(t *testing.T) {
	c := newCamera(t, h264Track(true))
	c.send(0, vBase, idr(3000, 1), true)
	c.send(0, vBase+3600, pFrame(3000, 2), false)
	c.drop = func(i int) bool { return i == 1 }
	c.send(0, vBase+7200, pFrame(4000, 3), false) // three packets, the middle one lost
	c.drop = nil
	c.send(0, vBase+10800, pFrame(3000, 4), false)
	c.send(0, vBase+14400, idr(3000, 5), true)
	c.send(0, vBase+18000, pFrame(3000, 6), false)
	frags, _ := c.fragments()
	want := []fragment{
		{track: 1, dts: 0, duration: 3600, key: true},
		{track: 1, dts: 3600, duration: 10800},
		{track: 1, dts: 14400, duration: 3600, key: true},
	}
	if len(frags) != len(want) {
		t.Fatalf("fragments %+v, want %+v", frags, want)
	}
	for i, w := range want {
		if g := frags[i]; g.dts != w.dts || g.duration != w.duration || g.key != w.key {
			t.Errorf("fragment %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestStreamParamsChange: a keyframe with new parameter sets is preceded by
// a new init segment with its codecs; the frame before it goes out first.
func TestStreamParamsChange(t *testing.T) {
	c := newCamera(t, h264Track(true))
	c.send(0, vBase, idr(3000, 1), true)
	c.send(0, vBase+3600, pFrame(800, 2), false)
	c.src[0].SPS, c.src[0].PPS = h264SPS2, h264PPS2
	c.send(0, vBase+7200, idr(3000, 3), true)
	c.send(0, vBase+10800, pFrame(800, 4), false)
	var got []string
	for _, e := range c.sink.events {
		if e.frag != nil {
			f := parseFragment(t, e.frag)
			got = append(got, "fragment "+map[bool]string{true: "key", false: "delta"}[f.key])
		} else {
			got = append(got, e.mime)
		}
	}
	want := []string{`video/mp4; codecs="avc1.64001F"`, "fragment key", "fragment delta",
		`video/mp4; codecs="avc1.42C01E"`, "fragment key"}
	if !slices.Equal(got, want) {
		t.Fatalf("written %q\nwant    %q", got, want)
	}
}

// TestStreamBFrames: decode order is arrival order, each decode time at
// least one tick after the one before, with composition offsets that keep
// every frame's presentation time; a frame presented before the first
// (a leading picture of an open GOP) is dropped.
func TestStreamBFrames(t *testing.T) {
	c := newCamera(t, h264Track(true))
	for _, f := range []struct {
		pts uint32
		key bool
	}{{3600, true}, {0, false}, {14400, false}, {7200, false}, {10800, false}, {25200, false}, {18000, false}, {21600, false}, {28800, false}} {
		frame := pFrame(600, byte(f.pts/3600))
		if f.key {
			frame = idr(600, 0)
		}
		c.send(0, vBase+f.pts, frame, f.key)
	}
	frags, _ := c.fragments()
	type dc struct {
		dts uint64
		cto int32
	}
	want := []dc{{0, 0}, {10800, 0}, {10801, 3600 - 10801}, {10802, 7200 - 10802}, {21600, 0}, {21601, 14400 - 21601}, {21602, 18000 - 21602}}
	var got []dc
	for _, f := range frags {
		got = append(got, dc{f.dts, f.cto})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("decode times and offsets %v, want %v", got, want)
	}
}

// TestStreamSinkError: the Sink's error ends the Stream: WriteRTP returns
// it from then on.
func TestStreamSinkError(t *testing.T) {
	c := newCamera(t, h264Track(true))
	c.sink.err = errors.New("browser gone")
	var got error
	_ = c.pz[0].Packetize(vBase, idr(500, 1), true, func(pkt []byte) { got = c.s.WriteRTP(0, pkt) })
	if !errors.Is(got, c.sink.err) {
		t.Fatalf("WriteRTP after the init failed: %v, want the sink's error", got)
	}
	if err := c.s.WriteRTCP(0, []byte{0x80, 200}); !errors.Is(err, c.sink.err) {
		t.Errorf("WriteRTCP: %v", err)
	}
}

// TestStreamNoPlayableTrack: a camera of MJPEG video and G.711 audio has
// nothing a browser plays; the error says why for each track.
func TestStreamNoPlayableTrack(t *testing.T) {
	mjpeg := &media.Track{Codec: media.CodecMJPEG, ClockRate: 90000, PayloadType: 26}
	_, err := liveview.NewStream(liveview.Config{Tracks: []*media.Track{mjpeg, pcmuTrack()}, Sink: &sink{}})
	if !errors.Is(err, liveview.ErrNoPlayableTrack) || !strings.Contains(err.Error(), "Motion JPEG") ||
		!strings.Contains(err.Error(), "G.711") {
		t.Fatalf("err %v, want ErrNoPlayableTrack naming both tracks", err)
	}
}

// discard is a Sink that keeps nothing.
type discard struct{ bytes int }

func (d *discard) Init(_ string, b []byte) error { d.bytes += len(b); return nil }
func (d *discard) Fragment(b []byte) error       { d.bytes += len(b); return nil }

// steadyCamera returns a func that writes the packets of one more 40 ms
// frame (several packets) and of two AAC frames to a started Stream of
// H.264 and AAC: packets made once, their sequence numbers and timestamps
// moved on in place, so that only the Stream's work is measured.
func steadyCamera(tb testing.TB) (next func(), out *discard) {
	out = &discard{}
	c := newCameraTo(tb, out, h264Track(true), aacTrack())
	c.send(0, vBase, idr(12000, 2), true)
	c.send(1, aBase, make([]byte, 400), true)
	packets := func(i int, unit []byte, key bool) [][]byte {
		var out [][]byte
		if err := c.pz[i].Packetize(0, unit, key, func(p []byte) { out = append(out, slices.Clone(p)) }); err != nil {
			tb.Fatal(err)
		}
		return out
	}
	video, audio := packets(0, pFrame(12000, 1), false), packets(1, make([]byte, 400), true)
	vSeq, aSeq := c.pz[0].Seq()-uint16(len(video)), c.pz[1].Seq()-uint16(len(audio))
	var vts, ats uint32 = vBase, aBase
	write := func(i int, pkts [][]byte, seq *uint16, ts uint32) {
		for _, p := range pkts {
			binary.BigEndian.PutUint16(p[2:], *seq)
			binary.BigEndian.PutUint32(p[4:], ts)
			*seq++
			if err := c.s.WriteRTP(i, p); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return func() {
		vts += 3600
		write(0, video, &vSeq, vts)
		for range 2 {
			ats += 1024
			write(1, audio, &aSeq, ats)
		}
	}, out
}

// TestStreamAllocations: in steady state, a frame's packets in and its
// fragments out allocate nothing.
func TestStreamAllocations(t *testing.T) {
	next, out := steadyCamera(t)
	next()
	next()
	before := out.bytes
	if n := testing.AllocsPerRun(100, next); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
	if sent := out.bytes - before; sent < 101*(12000+2*400) {
		t.Errorf("%d bytes written for 101 frames of 12.8 KB: frames were dropped", sent)
	}
}

// BenchmarkStreamWriteRTP is a browser viewer's per-frame path: the RTP
// packets of one 12 KB video frame and two AAC frames depacketized and
// muxed into three fragments.
func BenchmarkStreamWriteRTP(b *testing.B) {
	next, _ := steadyCamera(b)
	b.ReportAllocs()
	b.SetBytes(12000 + 2*400)
	for b.Loop() {
		next()
	}
}
