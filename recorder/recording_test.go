package recorder_test

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/mediatest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

var testSPS, testPPS = mediatest.H264SPS, mediatest.H264PPS

// fakeClock is a controllable wall clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

type harness struct {
	t     *testing.T
	dir   string
	store *storage.Store
	rec   *recorder.Recorder
	clock *fakeClock
}

func newHarness(t *testing.T, cfg recorder.Config) *harness {
	t.Helper()
	return newHarnessStore(t, cfg, storage.Config{Sync: storage.SyncNone})
}

// newHarnessStore is newHarness with a storage configuration (Dir is set).
func newHarnessStore(t *testing.T, cfg recorder.Config, scfg storage.Config) *harness {
	t.Helper()
	dir := t.TempDir()
	scfg.Dir = dir
	store, err := storage.Open(scfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	cfg.Now = clock.Now
	rec, err := recorder.New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, dir: dir, store: store, rec: rec, clock: clock}
}

// openLogged opens a harness with cfg, its log kept, and a recording of
// camera "cam" with one H.264 track; the harness closes at the end of t.
func openLogged(t *testing.T, cfg recorder.Config) (*harness, *recorder.Recording, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	cfg.Logger = slog.New(logs)
	h := newHarness(t, cfg)
	t.Cleanup(h.close)
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h, rec, logs
}

// frameCount returns how many samples track 1 has in files.
func frameCount(t *testing.T, files []*mp4.File) int {
	n := 0
	for _, f := range files {
		n += len(samplesOf(t, f, 1))
	}
	return n
}

func (h *harness) close() {
	h.rec.Close()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
}

func h264Track() *media.Track {
	return &media.Track{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
		Channels: 1, SPS: testSPS, PPS: testPPS, Width: 1280, Height: 720}
}

func aacTrack() *media.Track {
	return &media.Track{Control: "streamid=1", PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000,
		Channels: 2, AudioConfig: []byte{0x11, 0x90}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
}

// sender builds RTP packets of one track.
type sender struct {
	pt   uint8
	seq  uint16
	ssrc uint32
	base uint32
	pad  int // bytes added to each h264Frame's slice NAL
}

func (s *sender) packet(ts uint32, marker bool, payload []byte) []byte {
	s.seq++
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: s.pt, SequenceNumber: s.seq,
		Timestamp: s.base + ts, SSRC: s.ssrc, Marker: marker}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// h264Frame returns the packets of one frame: an IDR (type 5) or non-IDR
// slice (type 1), as a single NAL unit packet.
func (s *sender) h264Frame(ts uint32, key bool, n int) [][]byte {
	nal := append([]byte{0x41, 0x9a, byte(n), byte(n >> 8), 0x10, 0x20}, bytes.Repeat([]byte{0x55}, s.pad)...)
	if key {
		nal[0] = 0x65
		return [][]byte{s.packet(ts, false, testSPS), s.packet(ts, false, testPPS), s.packet(ts, true, nal)}
	}
	return [][]byte{s.packet(ts, true, nal)}
}

// aacFrame returns one AAC-hbr packet with a single 6-byte AU.
func (s *sender) aacFrame(ts uint32) []byte {
	return s.packet(ts, true, []byte{0x00, 0x10, 0x00, 6 << 3, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c})
}

// bframeOrder yields, for 25 fps frames in decode order, each frame's PTS
// index: I0 P3 B1 B2 P6 B4 B5 ... with a keyframe every gop frames.
func bframeOrder(n, gop int) (pts []int, key []bool) {
	for g := 0; g < n; g += gop {
		pts, key = append(pts, g), append(key, true)
		for i := g + 1; i < g+gop && i < n; i += 3 {
			next := min(i+2, g+gop-1, n-1)
			pts, key = append(pts, next), append(key, false)
			for b := i; b < next; b++ {
				pts, key = append(pts, b), append(key, false)
			}
		}
	}
	return pts, key
}

// push sends seconds of 25 fps H.264 (with B-frames if bframes) and 48 kHz
// AAC in arrival order, advancing the fake clock.
func (h *harness) push(rec *recorder.Recording, video, audio *sender, seconds int, bframes bool) (frames, afr int) {
	n := seconds * 25
	pts, key := make([]int, n), make([]bool, n)
	for i := range pts {
		pts[i], key[i] = i, i%25 == 0
	}
	if bframes {
		pts, key = bframeOrder(n, 25)
	}
	start := h.clock.now
	aNext := 0
	for i := range pts {
		at := start.Add(time.Duration(i) * 40 * time.Millisecond)
		for audio != nil && time.Duration(aNext)*time.Second*1024/48000 <= time.Duration(i)*40*time.Millisecond {
			h.clock.now = start.Add(time.Duration(aNext) * time.Second * 1024 / 48000)
			rec.WriteRTP(1, audio.aacFrame(uint32(aNext*1024)))
			aNext++
		}
		h.clock.now = at
		for _, p := range video.h264Frame(uint32(pts[i]*3600), key[i], i) {
			rec.WriteRTP(0, p)
		}
	}
	return n, aNext
}

// readSegments decodes every segment file of a camera with mp4ff.
func (h *harness) readSegments(camera string) ([]storage.SegmentInfo, []*mp4.File) {
	infos, err := h.store.Segments(camera, time.Time{}, time.Time{}, true)
	if err != nil {
		h.t.Fatal(err)
	}
	var files []*mp4.File
	for _, info := range infos {
		f, err := os.Open(filepath.Join(h.dir, info.File))
		if err != nil {
			h.t.Fatal(err)
		}
		mf, err := mp4.DecodeFile(f)
		f.Close()
		if err != nil {
			h.t.Fatalf("decode %s: %v", info.File, err)
		}
		files = append(files, mf)
	}
	return infos, files
}

type trackSample struct {
	dts, pts int64
	key      bool
}

func samplesOf(t *testing.T, mf *mp4.File, trackID uint32) []trackSample {
	var out []trackSample
	for _, seg := range mf.Segments {
		for _, frag := range seg.Fragments {
			for _, traf := range frag.Moof.Trafs {
				if traf.Tfhd.TrackID != trackID {
					continue
				}
				dts := int64(traf.Tfdt.BaseMediaDecodeTime())
				for i, s := range traf.Trun.Samples {
					if i == 0 && len(out) > 0 && dts < out[len(out)-1].dts {
						t.Fatalf("tfdt %d goes back before %d", dts, out[len(out)-1].dts)
					}
					out = append(out, trackSample{dts: dts, pts: dts + int64(s.CompositionTimeOffset),
						key: mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync == false})
					dts += int64(s.Dur)
				}
			}
		}
	}
	return out
}

func TestRecordH264AAC(t *testing.T) {
	for _, bframes := range []bool{false, true} {
		name := map[bool]string{false: "baseline", true: "bframes"}[bframes]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, recorder.Config{})
			rec, err := h.rec.Open("cam", []*media.Track{h264Track(), aacTrack()}, recorder.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			video := &sender{pt: 96, ssrc: 1, base: 123456789, seq: 65000}
			audio := &sender{pt: 97, ssrc: 2, base: 4000000000}
			start := h.clock.now
			frames, afr := h.push(rec, video, audio, 10, bframes)
			rec.Close()
			h.close()
			h.store, _ = storage.Open(storage.Config{Dir: h.dir})
			defer h.store.Close()
			infos, files := h.readSegments("cam")
			if len(infos) != 1 {
				t.Fatalf("%d segments", len(infos))
			}
			if d := infos[0].Start.Sub(start).Abs(); d > time.Millisecond {
				t.Errorf("segment start %v, want %v", infos[0].Start, start)
			}
			if n := len(infos[0].Fragments); n != 10 {
				t.Errorf("%d fragments, want 10", n)
			}
			for i, f := range infos[0].Fragments {
				want := start.Add(time.Duration(i) * time.Second)
				if !f.Key || f.Start.Sub(want).Abs() > time.Millisecond {
					t.Errorf("fragment %d: key=%v start %v want %v", i, f.Key, f.Start, want)
				}
			}
			vs := samplesOf(t, files[0], 1)
			if len(vs) != frames {
				t.Fatalf("%d video samples, want %d", len(vs), frames)
			}
			for i, s := range vs {
				if i > 0 && s.dts <= vs[i-1].dts {
					t.Fatalf("sample %d: dts %d not after %d", i, s.dts, vs[i-1].dts)
				}
				if s.pts < s.dts {
					t.Fatalf("sample %d: pts %d before dts %d", i, s.pts, s.dts)
				}
				if s.pts%3600 != vs[0].pts%3600 || s.key != (i%25 == 0) {
					t.Fatalf("sample %d: pts %d key %v", i, s.pts, s.key)
				}
			}
			as := samplesOf(t, files[0], 2)
			if len(as) < afr-2 || len(as) > afr {
				t.Errorf("%d audio samples, sent %d", len(as), afr)
			}
			// A/V alignment: video's first PTS and audio's first PTS map to
			// the same wall instant (within one audio frame).
			vWall := time.Duration(vs[0].pts) * time.Second / 90000
			aWall := time.Duration(as[0].pts) * time.Second / 48000
			if d := (vWall - aWall).Abs(); d > 25*time.Millisecond {
				t.Errorf("video starts at %v, audio at %v", vWall, aWall)
			}
		})
	}
}

func TestSegmentRotation(t *testing.T) {
	h := newHarness(t, recorder.Config{SegmentDuration: 4 * time.Second})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7}
	frames, _ := h.push(rec, video, nil, 10, false)
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 3 {
		t.Fatalf("%d segments, want 3 (4 s + 4 s + 2 s)", len(infos))
	}
	total := 0
	for i, info := range infos {
		total += len(samplesOf(t, files[i], 1))
		if i > 0 && info.Start.Before(infos[i-1].End) {
			t.Errorf("segment %d starts %v before previous end %v", i, info.Start, infos[i-1].End)
		}
	}
	if total != frames {
		t.Errorf("%d frames recorded, want %d", total, frames)
	}
}

// pushOn sends frames from..to-1 of 25 fps H.264, 40 ms apart on the
// fake clock from wherever it stands.
func (h *harness) pushOn(rec *recorder.Recording, video *sender, from, to int) {
	for i := from; i < to; i++ {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
	}
}

// recordAcrossStep records 3 s, steps the server clock by step while media
// keeps flowing, records 3 s more and returns the camera's segments.
func recordAcrossStep(t *testing.T, step time.Duration) []storage.SegmentInfo {
	t.Helper()
	h := newHarness(t, recorder.Config{})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7}
	h.push(rec, video, nil, 3, false)
	h.clock.now = h.clock.now.Add(step)
	h.pushOn(rec, video, 75, 150)
	rec.Close()
	rec.Wait()
	infos, _ := h.readSegments("cam")
	h.store.Close()
	return infos
}

func TestClockStepStartsNewSegment(t *testing.T) {
	infos := recordAcrossStep(t, -time.Hour)
	if len(infos) != 2 {
		t.Fatalf("%d segments, want 2", len(infos))
	}
	if infos[0].End.Sub(infos[0].Start) > 4*time.Second {
		t.Errorf("first segment spans %v", infos[0].End.Sub(infos[0].Start))
	}
	// The archive stays in order: the second segment continues after the
	// first instead of overlapping it an hour earlier.
	if gap := infos[1].Start.Sub(infos[0].End); gap < 0 || gap > 100*time.Millisecond {
		t.Errorf("second segment starts %v after the first ends", gap)
	}
	if d := infos[1].End.Sub(infos[1].Start); d < 2*time.Second || d > 3*time.Second {
		t.Errorf("second segment spans %v, want ~3 s", d)
	}
}

func TestClockStepForwardLeavesGap(t *testing.T) {
	infos := recordAcrossStep(t, time.Hour)
	if len(infos) != 2 {
		t.Fatalf("%d segments, want 2", len(infos))
	}
	for i, info := range infos {
		if d := info.End.Sub(info.Start); d > 4*time.Second {
			t.Errorf("segment %d spans %v", i, d)
		}
	}
	if gap := infos[1].Start.Sub(infos[0].End); gap < 59*time.Minute || gap > 61*time.Minute {
		t.Errorf("gap %v, want about the 1 h step", gap)
	}
}

// A new recording (a reconnect, or a restart) whose clock is behind the
// archive continues after it rather than being filed in the past.
func TestNewRecordingNeverOverlapsArchive(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	for _, back := range []time.Duration{0, 30 * time.Second} {
		rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.clock.now = h.clock.now.Add(-back)
		h.push(rec, video, nil, 4, false)
		rec.Close()
		rec.Wait()
		video.base += 1 << 20
	}
	// A fresh Recorder on a reopened store knows the archive from the index only.
	h.rec.Close()
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(storage.Config{Dir: h.dir, Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	h.store = store
	h.rec, err = recorder.New(recorder.Config{Now: h.clock.Now}, store)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.now = h.clock.now.Add(-time.Minute)
	h.push(rec, video, nil, 4, false)
	rec.Close()
	rec.Wait()
	infos, _ := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 3 {
		t.Fatalf("%d segments, want 3", len(infos))
	}
	// Each recording's clock was behind the archive's end (by 30 s, then
	// 1 min), so each continues right after it, in recording order.
	for i := 1; i < len(infos); i++ {
		if gap := infos[i].Start.Sub(infos[i-1].End); gap < 0 || gap > 100*time.Millisecond {
			t.Errorf("segment %d starts %v after segment %d ends", i, gap, i-1)
		}
	}
}

func TestSenderReportAnchorsWallClock(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7, base: 1000}
	for _, p := range video.h264Frame(0, true, 0) {
		rec.WriteRTP(0, p)
	}
	// The camera says RTP time 1000 was captured 300 ms before it arrived.
	rec.WriteRTCP(0, senderReport(7, h.clock.now.Add(-300*time.Millisecond), 1000))
	for i := 1; i < 50; i++ {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
	}
	want := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(-300 * time.Millisecond)
	rec.Close()
	rec.Wait()
	infos, _ := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 1 || infos[0].Start.Sub(want).Abs() > time.Millisecond {
		t.Fatalf("segments %+v, want start %v", infos, want)
	}
	// The re-anchor must not move fragment cuts: keyframes 1 s apart in
	// media time make two fragments.
	if n := len(infos[0].Fragments); n != 2 {
		t.Errorf("%d fragments, want 2", n)
	}
}

func TestRecordingWaitsForKeyframe(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track(), aacTrack()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 1}
	audio := &sender{pt: 97, ssrc: 2}
	// Join mid-GOP: P frames and audio first, the keyframe later.
	for i := 1; i < 10; i++ {
		rec.WriteRTP(0, video.h264Frame(uint32(i*3600), false, i)[0])
		rec.WriteRTP(1, audio.aacFrame(uint32(i*1920)))
	}
	h.clock.now = h.clock.now.Add(400 * time.Millisecond)
	for i := 10; i < 60; i++ {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 10, i) {
			rec.WriteRTP(0, p)
		}
	}
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 1 {
		t.Fatalf("%d segments", len(infos))
	}
	vs := samplesOf(t, files[0], 1)
	if len(vs) != 50 || !vs[0].key {
		t.Fatalf("%d samples, first key=%v; want 50 starting with a keyframe", len(vs), vs[0].key)
	}
}

// BenchmarkWriteRTP measures the per-packet path: RTP bytes in, fragment
// bytes handed to storage (SyncNone, so disk time stays out of it). One GOP
// of packets is built once; sequence numbers and timestamps are patched in
// place as it repeats. The loop outruns the writer: this recording (fed
// over UDP) drops the fragments the full queue cannot take.
func BenchmarkWriteRTP(b *testing.B) { benchWriteRTP(b, recorder.OpenOptions{}) }

// BenchmarkWriteRTPBackpressure is BenchmarkWriteRTP fed over TCP: at a full
// write queue it waits for the writer instead of dropping, so it runs at the
// writer's pace and measures the waiting path too.
func BenchmarkWriteRTPBackpressure(b *testing.B) {
	benchWriteRTP(b, recorder.OpenOptions{Backpressure: true})
}

func benchWriteRTP(b *testing.B, opt recorder.OpenOptions) {
	dir := b.TempDir()
	store, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	clock := &fakeClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	// The loop runs hundreds of times faster than real time, faster than
	// the writer: budgets as large as the write queue keep the recording
	// from ending over budget.
	r, err := recorder.New(recorder.Config{Now: clock.Now, MaxRecordingBuffer: 1 << 30, MaxBuffer: 1 << 30}, store)
	if err != nil {
		b.Fatal(err)
	}
	rec, err := r.Open("cam", []*media.Track{h264Track()}, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	// A ~3 Mbit/s stream: 25 fps, 11 FU-A packets of 1400 bytes per frame.
	video := &sender{pt: 96, ssrc: 7}
	payload := make([]byte, 1400)
	var gop [][]byte
	var frameOf []int
	for f := range 25 {
		for _, p := range fuaFrame(video, uint32(f*3600), f == 0, payload) {
			gop, frameOf = append(gop, p), append(frameOf, f)
		}
	}
	seq, i, round := uint16(0), 0, 0
	b.ReportAllocs()
	b.SetBytes(1400)
	for b.Loop() {
		p := gop[i]
		seq++
		binary.BigEndian.PutUint16(p[2:], seq)
		binary.BigEndian.PutUint32(p[4:], uint32((round*25+frameOf[i])*3600))
		if i == 0 || frameOf[i] != frameOf[i-1] {
			clock.now = clock.now.Add(40 * time.Millisecond)
		}
		rec.WriteRTP(0, p)
		if i++; i == len(gop) {
			i, round = 0, round+1
		}
	}
	b.StopTimer()
	if err := rec.Err(); err != nil {
		b.Fatal(err)
	}
}

// fuaFrame returns 11 FU-A packets of one frame (plus SPS/PPS for a key).
func fuaFrame(s *sender, ts uint32, key bool, payload []byte) [][]byte {
	var out [][]byte
	typ := byte(1)
	if key {
		typ = 5
		out = append(out, s.packet(ts, false, testSPS), s.packet(ts, false, testPPS))
	}
	for i := range 11 {
		hdr := typ
		if i == 0 {
			hdr |= 0x80
		}
		if i == 10 {
			hdr |= 0x40
		}
		p := append([]byte{0x7c, hdr}, payload...)
		out = append(out, s.packet(ts, i == 10, p))
	}
	return out
}

func TestTrackWithoutParametersIsLeftOut(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	noConfig := aacTrack()
	noConfig.AudioConfig = nil
	rec, err := h.rec.Open("cam", []*media.Track{h264Track(), noConfig}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 1}
	audio := &sender{pt: 97, ssrc: 2}
	frames, _ := h.push(rec, video, audio, 3, false)
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 1 || len(infos[0].Tracks) != 1 {
		t.Fatalf("segments %+v, want one with the video track only", infos)
	}
	if n := len(samplesOf(t, files[0], 1)); n != frames {
		t.Errorf("%d video samples, want %d", n, frames)
	}
}

// TestSenderReportAfterKeyframeKeepsKeyframe is the regression test for a
// keyframe dropped when a sender report anchored the clock a few ticks after
// it: the nanosecond round trip of the segment base rounded the keyframe's
// decode time to -1 (seen with ffmpeg pushing H.264+AAC over UDP).
func TestSenderReportAfterKeyframeKeepsKeyframe(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7, base: 1000}
	for _, p := range video.h264Frame(0, true, 0) {
		rec.WriteRTP(0, p)
	}
	rec.WriteRTCP(0, senderReport(7, h.clock.now.Add(123457*time.Nanosecond), 1007))
	for i := 1; i < 50; i++ {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
	}
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	if len(infos) != 1 || !infos[0].Fragments[0].Key {
		t.Fatalf("segments %+v, want one starting with a keyframe fragment", infos)
	}
	vs := samplesOf(t, files[0], 1)
	if len(vs) != 50 || !vs[0].key || vs[0].dts != 0 {
		t.Fatalf("%d samples, first %+v; want 50 starting with a keyframe at decode time 0", len(vs), vs[0])
	}
}

// senderReport builds an RTCP SR of ssrc mapping RTP time rtpTS to wall.
func senderReport(ssrc uint32, wall time.Time, rtpTS uint32) []byte {
	sr := make([]byte, 28)
	sr[0], sr[1] = 0x80, 200
	binary.BigEndian.PutUint16(sr[2:], 6)
	binary.BigEndian.PutUint32(sr[4:], ssrc)
	binary.BigEndian.PutUint64(sr[8:], fmp4.NTPTime(wall))
	binary.BigEndian.PutUint32(sr[16:], rtpTS)
	return sr
}
