package live_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// TestInstantStart joins a viewer in the middle of a group of pictures: it
// first gets the camera's sender reports, then the whole access unit of
// the latest keyframe (parameter sets first) and every frame since, retimed
// to one tick apart ending at the newest frame's timestamp; cached audio
// is not sent, and later packets carry the camera's own timestamps.
func TestInstantStart(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(gopFrames + 10)
	cam.w.WriteRTCP(0, senderReport(videoSSRC, 1234))
	o := newOut()
	_, resp := play(t, r, o, 0, 1)
	const cached = 10 // the keyframe and the nine frames after it
	got := o.count(t, 1+4+cached-1)
	if !got[0].rtcp || got[0].stream != 0 {
		t.Fatalf("first packet sent: %+v, want the video sender report", got[0])
	}
	media := got[1:]
	if s := seqOf(media[0].b); s != cam.lastKeyStartSeq {
		t.Fatalf("first video packet has seq %d, want %d (the keyframe's SPS)", s, cam.lastKeyStartSeq)
	}
	if media[0].b[12] != sps[0] {
		t.Fatalf("first video payload starts %x, want the SPS", media[0].b[12])
	}
	newest := uint32((gopFrames + 9) * frameTicks)
	if len(resp.Streams) != 2 || resp.Streams[0].Seq != cam.lastKeyStartSeq || resp.Streams[0].RTPTime != newest-cached+1 {
		t.Fatalf("RTP-Info %+v, want video seq %d rtptime %d", resp.Streams, cam.lastKeyStartSeq, newest-cached+1)
	}
	if a := resp.Streams[1]; a.Unknown || a.Seq != cam.lastAudioSeq+1 {
		t.Fatalf("audio RTP-Info %+v, want seq %d", a, cam.lastAudioSeq+1)
	}
	var frameTS []uint32
	for i, p := range media {
		if p.stream != 0 || p.rtcp {
			t.Fatalf("packet %d of the burst is stream %d rtcp %v: cached audio must not be sent", i, p.stream, p.rtcp)
		}
		if ts := tsOf(p.b); len(frameTS) == 0 || frameTS[len(frameTS)-1] != ts {
			frameTS = append(frameTS, ts)
		}
	}
	if len(frameTS) != cached {
		t.Fatalf("%d frames in the burst, want %d", len(frameTS), cached)
	}
	for i, ts := range frameTS {
		if want := newest - uint32(cached-1-i); ts != want {
			t.Fatalf("burst frame %d has timestamp %d, want %d", i, ts, want)
		}
	}
	before := len(got)
	cam.frames(2)
	got = o.count(t, before+3) // two P-frames and an audio packet
	for _, p := range got[before:] {
		if p.stream == 0 && tsOf(p.b)%frameTicks != 0 {
			t.Fatalf("live video packet retimed: ts %d", tsOf(p.b))
		}
	}
}

// TestJoinBeforeFirstKeyframe: a viewer that joins before the camera sent
// any keyframe gets nothing of the video until the next keyframe's access
// unit, which it gets whole.
func TestJoinBeforeFirstKeyframe(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frame = 5 // start mid-GOP: P-frames first
	cam.frames(3)
	o := newOut()
	_, resp := play(t, r, o, 0)
	if !resp.Streams[0].Unknown {
		t.Fatalf("RTP-Info %+v, want no seq before the first keyframe", resp.Streams[0])
	}
	cam.frames(gopFrames - 8 + 1) // up to and including the keyframe
	got := o.count(t, 4)
	if s := seqOf(got[0].b); s != cam.lastKeyStartSeq || got[0].b[12] != sps[0] {
		t.Fatalf("first packet seq %d payload %x, want the keyframe's SPS at %d", s, got[0].b[12], cam.lastKeyStartSeq)
	}
}

// TestAudioOnlyStartsAtNextPacket: a viewer of the audio stream alone
// starts with the next packet.
func TestAudioOnlyStartsAtNextPacket(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(4)
	o := newOut()
	_, resp := play(t, r, o, 1)
	if resp.Streams[0].Seq != cam.lastAudioSeq+1 {
		t.Fatalf("RTP-Info %+v, want seq %d", resp.Streams[0], cam.lastAudioSeq+1)
	}
	cam.frames(2)
	got := o.count(t, 1)
	if got[0].stream != 1 || seqOf(got[0].b) != cam.lastAudioSeq {
		t.Fatalf("sent %+v, want the next audio packet", got[0])
	}
}

// TestSlowViewerSkipsToKeyframe blocks a viewer until its queue overflows:
// it then gets nothing until the next keyframe's access unit, other viewers
// get everything, and the camera is never held back.
func TestSlowViewerSkipsToKeyframe(t *testing.T) {
	r, cam := newRelay(t, live.Config{GOPCacheBytes: 64 << 10, ViewerQueueBytes: 64 << 10})
	cam.padFrames = 2000
	cam.frames(1)
	slow, fast := newOut(), newOut()
	play(t, r, fast, 0)
	slow.block()
	play(t, r, slow, 0)
	select { // the sender took the cached keyframe and waits on its first write
	case <-slow.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow viewer's sender did not start")
	}
	// The camera sends in real time: the fast viewer takes each frame
	// before the next comes.
	frames := func(n int) {
		for range n {
			cam.frames(1)
			fast.count(t, len(cam.sent))
		}
	}
	frames(3*gopFrames - 1 + gopFrames/2) // well over 64 KiB beyond the batch being sent
	slow.unblock()
	// The slow viewer drains its queue and resumes at the first keyframe
	// that fits; the camera goes on until it has (at most ten more groups).
	gap := func(s []sent) int {
		for i := 1; i < len(s); i++ {
			if seqOf(s[i].b) != seqOf(s[i-1].b)+1 {
				return i
			}
		}
		return 0
	}
	for range 10 * gopFrames {
		frames(1)
		slow.mu.Lock()
		i := gap(slow.got)
		var first []byte
		if i > 0 {
			first = slow.got[i].b
		}
		slow.mu.Unlock()
		if i > 0 {
			if first[12] != sps[0] {
				t.Fatalf("after the skip the viewer got seq %d, payload %x: not a keyframe unit", seqOf(first), first[12])
			}
			return
		}
	}
	t.Fatal("the blocked viewer skipped nothing, or never resumed")
}

// TestSlowViewerEnds: a viewer skipping for write_timeout ends with
// rtsp.ErrSlowClient; until then Ended is nil.
func TestSlowViewerEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, cam := newRelay(t, live.Config{GOPCacheBytes: 64 << 10, ViewerQueueBytes: 64 << 10, WriteTimeout: 2 * time.Second})
		cam.padFrames = 2000
		o := newOut()
		o.block()
		defer o.unblock() // on failure too: a blocked sender would deadlock the bubble
		cam.frames(1)
		pres, _ := play(t, r, o, 0)
		ender := pres.(rtsp.Ender)
		synctest.Wait() // the sender took the keyframe and blocks on its first write
		cam.frames(60)  // over 64 KiB: the queue overflows
		if err := ender.Ended(); err != nil {
			t.Fatalf("Ended right after falling behind: %v", err)
		}
		time.Sleep(3 * time.Second)
		if err := ender.Ended(); !errors.Is(err, rtsp.ErrSlowClient) {
			t.Fatalf("Ended after 3s behind: %v, want ErrSlowClient", err)
		}
		o.mu.Lock()
		o.closed = true
		o.mu.Unlock()
		o.unblock()
		pres.Close(rtsp.ErrSlowClient)
	})
}

// TestCameraGone: when the recording ends, a viewer gets what was queued,
// then an RTCP BYE per stream, and Ended reports ErrCameraGone; DESCRIBE
// then answers 404.
func TestCameraGone(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(3)
	o := newOut()
	pres, _ := play(t, r, o, 0, 1)
	cam.w.Close()
	got := o.waitFor(t, "BYEs", func(s []sent) bool {
		byes := 0
		for _, p := range s {
			if p.rtcp && len(p.b) > 9 && p.b[9] == 203 { // after the empty RR
				byes++
			}
		}
		return byes == 2
	})
	if last := got[len(got)-1]; !last.rtcp {
		t.Fatalf("last packet is not a BYE: %+v", last)
	}
	ender := pres.(rtsp.Ender)
	waitEnded(t, ender, live.ErrCameraGone)
	_, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	var e *base.Error
	if !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("DESCRIBE after the camera stopped: %v, want 404", err)
	}
}

func waitEnded(t *testing.T, e rtsp.Ender, want error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := e.Ended()
		if errors.Is(err, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ended = %v, want %v", err, want)
		}
		time.Sleep(time.Millisecond) // polls a state the sender goroutine sets; bounded above
	}
}

// TestNotLive: DESCRIBE of a camera that is not recording answers 404.
func TestNotLive(t *testing.T) {
	r, err := live.New(live.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "nobody"})
	var e *base.Error
	if !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("DESCRIBE: %v, want 404", err)
	}
}

// TestMaxViewers: PLAY beyond max_viewers answers 503; a closed viewer
// gives its place back.
func TestMaxViewers(t *testing.T) {
	r, cam := newRelay(t, live.Config{MaxViewers: 1})
	cam.frames(1)
	first, _ := play(t, r, newOut(), 0)
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	defer pres.Close(rtsp.ErrTeardown)
	_, err = pres.Play(&rtsp.PlayRequest{Streams: []int{0}, Out: newOut()})
	var e *base.Error
	if !errors.As(err, &e) || e.Status != 503 {
		t.Fatalf("second PLAY: %v, want 503", err)
	}
	first.Close(rtsp.ErrTeardown)
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: []int{0}, Out: newOut()})
	if err != nil {
		t.Fatalf("PLAY after the first viewer left: %v", err)
	}
	resp.Start()
}

// TestPauseAndPlayAgain: PAUSE stops the viewer; the next PLAY starts
// again at the cached keyframe.
func TestPauseAndPlayAgain(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(3)
	o := newOut()
	pres, _ := play(t, r, o, 0)
	o.count(t, 6)
	if _, err := pres.Pause(); err != nil {
		t.Fatal(err)
	}
	cam.frames(1)
	o2 := newOut()
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: []int{0}, Out: o2})
	if err != nil {
		t.Fatal(err)
	}
	resp.Start()
	got := o2.count(t, 7)
	if seqOf(got[0].b) != cam.lastKeyStartSeq {
		t.Fatalf("PLAY after PAUSE starts at seq %d, want the keyframe at %d", seqOf(got[0].b), cam.lastKeyStartSeq)
	}
}

// TestSDP: the live SDP has the relayed tracks with trackID controls and
// the camera's payload types.
func TestSDP(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(1)
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	defer pres.Close(rtsp.ErrTeardown)
	sdp := string(pres.SDP())
	for _, want := range []string{"a=control:trackID=0", "a=control:trackID=1", "a=rtpmap:96 H264/90000", "a=rtpmap:97 MPEG4-GENERIC/48000"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("SDP lacks %q:\n%s", want, sdp)
		}
	}
	if c := pres.Controls(); len(c) != 2 || c[0] != "trackID=0" {
		t.Errorf("Controls = %q", c)
	}
	if ssrc, ok := pres.(rtsp.SSRCReporter).SSRC(0); !ok || ssrc != videoSSRC {
		t.Errorf("SSRC(0) = %x, %v", ssrc, ok)
	}
}

// TestOnDemand: DESCRIBE of a camera that is not live asks OnDemand, waits
// for the camera's recording to open, and gives the camera back when the
// viewer leaves; a camera that does not start in time answers 404.
func TestOnDemand(t *testing.T) {
	var r *live.Relay
	released := make(chan string, 2)
	cfg := live.Config{OnDemandTimeout: time.Second, OnDemand: func(name string) (func(), bool) {
		switch name {
		case "cam":
			go func() {
				w, err := r.Open("cam", testTracks(), ingest.Feed{})
				if err != nil {
					t.Error(err)
					return
				}
				(&camera{w: w}).frames(1)
				t.Cleanup(w.Close)
			}()
		case "stuck":
		default:
			return nil, false
		}
		return func() { released <- name }, true
	}}
	var err error
	if r, err = live.New(cfg); err != nil {
		t.Fatal(err)
	}
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatalf("DESCRIBE of an on-demand camera: %v", err)
	}
	if !strings.Contains(string(pres.SDP()), "H264") {
		t.Fatalf("SDP:\n%s", pres.SDP())
	}
	pres.Close(rtsp.ErrTeardown)
	if got := <-released; got != "cam" {
		t.Fatalf("released %q", got)
	}
	synctest.Test(t, func(t *testing.T) {
		_, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "stuck"})
		var e *base.Error
		if !errors.As(err, &e) || e.Status != 404 {
			t.Fatalf("DESCRIBE of a camera that does not start: %v, want 404", err)
		}
	})
	if got := <-released; got != "stuck" {
		t.Fatalf("released %q", got)
	}
	if _, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "unknown"}); err == nil {
		t.Fatal("DESCRIBE of an unknown camera succeeded")
	}
}

// TestSubscribe: a viewer of another transport gets the tracks, starts at
// the cached keyframe, and sees Done when the camera stops.
func TestSubscribe(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(3)
	o := newOut()
	sub, err := r.Subscribe(t.Context(), "cam", o)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if len(sub.Tracks) != 2 || sub.Tracks[0].SPS == nil {
		t.Fatalf("tracks %+v", sub.Tracks)
	}
	got := o.count(t, 4)
	if got[0].b[12] != sps[0] {
		t.Fatalf("first packet payload %x, want the SPS", got[0].b[12])
	}
	if err := sub.Err(); err != nil {
		t.Fatalf("Err of a playing viewer: %v", err)
	}
	cam.w.Close()
	select {
	case <-sub.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after the camera stopped")
	}
	if err := sub.Err(); !errors.Is(err, live.ErrCameraGone) {
		t.Fatalf("Err after the camera stopped: %v", err)
	}
	if _, err := r.Subscribe(t.Context(), "cam", o); !errors.Is(err, live.ErrNotLive) {
		t.Fatalf("Subscribe of a camera that stopped: %v, want ErrNotLive", err)
	}
}

// TestSubscribeTooMany: beyond MaxViewers, Subscribe returns
// ErrTooManyViewers; a closed subscription gives its place back.
func TestSubscribeTooMany(t *testing.T) {
	r, cam := newRelay(t, live.Config{MaxViewers: 1})
	cam.frames(3)
	sub, err := r.Subscribe(t.Context(), "cam", newOut())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Subscribe(t.Context(), "cam", newOut()); !errors.Is(err, live.ErrTooManyViewers) {
		t.Fatalf("second viewer: %v, want ErrTooManyViewers", err)
	}
	sub.Close()
	sub, err = r.Subscribe(t.Context(), "cam", newOut())
	if err != nil {
		t.Fatalf("after the first left: %v", err)
	}
	sub.Close()
}

// TestOriginalTimestamps: with original_timestamps the cached group keeps
// the camera's timestamps, and RTP-Info gives the keyframe's.
func TestOriginalTimestamps(t *testing.T) {
	r, cam := newRelay(t, live.Config{OriginalTimestamps: true})
	cam.frames(5)
	o := newOut()
	_, resp := play(t, r, o, 0)
	got := o.count(t, 8)
	for i, p := range got {
		if want := cam.sent[i].ts; tsOf(p.b) != want {
			t.Fatalf("packet %d has timestamp %d, want the camera's %d", i, tsOf(p.b), want)
		}
	}
	if resp.Streams[0].RTPTime != 0 || resp.Streams[0].Seq != 0 {
		t.Fatalf("RTP-Info %+v, want the keyframe's", resp.Streams[0])
	}
}

// TestParamSetsWithMarker: parameter sets sent as access units of their own
// (marker bit set) stay with the keyframe they precede.
func TestParamSetsWithMarker(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.markParams = true
	cam.frames(gopFrames + 3)
	o := newOut()
	play(t, r, o, 0)
	got := o.count(t, 4)
	if seqOf(got[0].b) != cam.lastKeyStartSeq || got[0].b[12] != sps[0] {
		t.Fatalf("the burst starts at seq %d payload %x, want the SPS at %d", seqOf(got[0].b), got[0].b[12], cam.lastKeyStartSeq)
	}
}

// TestBFramesKeepTimestamps: a cached group whose timestamps go back in
// decode order (B-frames) is sent with the camera's timestamps, which
// retimed in decode order would be presented out of order.
func TestBFramesKeepTimestamps(t *testing.T) {
	r, cam := newRelay(t, live.Config{})
	cam.frames(1) // the keyframe, frame 0
	// Decode order P3 B1 B2: timestamps 3, 1, 2 frames.
	for i, f := range []int{3, 1, 2} {
		cam.w.WriteRTP(0, rtpPacket(96, cam.vseq, uint32(f*frameTicks), videoSSRC, true, []byte{0x41, byte(i)}))
		cam.vseq++
	}
	o := newOut()
	play(t, r, o, 0)
	got := o.count(t, 7)
	want := []uint32{0, 0, 0, 0, 3 * frameTicks, 1 * frameTicks, 2 * frameTicks}
	for i, p := range got[:7] {
		if tsOf(p.b) != want[i] {
			t.Fatalf("packet %d has timestamp %d, want %d", i, tsOf(p.b), want[i])
		}
	}
}

// TestCaughtUpViewerNotDropped: a viewer that fell behind once and then
// emptied its queue is waiting for a keyframe, not behind: a camera whose
// keyframes are further apart than write_timeout does not get it dropped.
func TestCaughtUpViewerNotDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, cam := newRelay(t, live.Config{GOPCacheBytes: 64 << 10, ViewerQueueBytes: 64 << 10, WriteTimeout: time.Second})
		cam.padFrames = 2000
		o := newOut()
		o.block()
		defer o.unblock()
		cam.frames(1)
		pres, _ := play(t, r, o, 0)
		synctest.Wait()
		cam.frames(40) // falls behind
		o.unblock()
		synctest.Wait() // the queue drained
		time.Sleep(3 * time.Second)
		cam.frames(1) // still no keyframe
		synctest.Wait()
		if err := pres.(rtsp.Ender).Ended(); err != nil {
			t.Fatalf("Ended = %v for a viewer that caught up", err)
		}
	})
}

// TestGOPCacheCountsMemory: the cache bound counts what packets hold, not
// their length: tiny packets cannot make it hold many times its bound.
func TestGOPCacheCountsMemory(t *testing.T) {
	r, cam := newRelay(t, live.Config{GOPCacheBytes: 64 << 10, ViewerQueueBytes: 64 << 10})
	cam.frames(1)
	for range 2000 { // 2000 tiny P-frames: 30 KB of packets, about 3 MB of buffers
		cam.w.WriteRTP(0, rtpPacket(96, cam.vseq, uint32(cam.vseq)*frameTicks, videoSSRC, true, []byte{0x41, 1}))
		cam.vseq++
	}
	o := newOut()
	_, resp := play(t, r, o, 0)
	if !resp.Streams[0].Unknown {
		t.Fatalf("RTP-Info %+v: a group of 2000 packets was cached under a 64 KiB bound", resp.Streams[0])
	}
}

// TestOnDemandRestartBeforePlay: an on-demand camera whose session ends
// between a viewer's DESCRIBE and PLAY (the linger of the last viewer ran
// out) is pulled again; PLAY waits for the new session and plays it.
func TestOnDemandRestartBeforePlay(t *testing.T) {
	var r *live.Relay
	writers := make(chan ingest.Writer, 2)
	open := func() {
		w, err := r.Open("cam", testTracks(), ingest.Feed{})
		if err != nil {
			t.Error(err)
			return
		}
		(&camera{w: w}).frames(1)
		writers <- w
	}
	var err error
	r, err = live.New(live.Config{OnDemand: func(string) (func(), bool) { return func() {}, true }})
	if err != nil {
		t.Fatal(err)
	}
	go open()
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	defer pres.Close(rtsp.ErrTeardown)
	(<-writers).Close() // the session ends before PLAY
	go open()           // and the pull starts the next one
	o := newOut()
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: []int{0}, Out: o})
	if err != nil {
		t.Fatalf("PLAY after the on-demand session restarted: %v", err)
	}
	resp.Start()
	o.count(t, 4)
	(<-writers).Close()
}

// TestLateAudioNotHeld: audio that arrives BatchDelay or more after the
// sender was last woken goes out at once, not with the next video frame.
func TestLateAudioNotHeld(t *testing.T) {
	r, cam := newRelay(t, live.Config{BatchDelay: time.Millisecond})
	cam.frames(gopFrames)
	o := &batchOut{out: newOut()}
	play(t, r, o, 0, 1)
	got := len(o.count(t, 4+gopFrames-1))
	for at := time.Now(); time.Since(at) <= 2*time.Millisecond; {
		runtime.Gosched() // the delay is what the rule is about
	}
	cam.w.WriteRTP(1, rtpPacket(97, 500, 0, audioSSRC, true, []byte{0, 16, 0, 8, 1, 2, 3}))
	if s := o.count(t, got+1)[got]; s.stream != 1 {
		t.Fatalf("sent %+v, want the audio packet", s)
	}
}

// redirector is an rtsp.Redirector that records where it sent the viewer.
type redirector struct{ to chan string }

func (r redirector) Redirect(location string, _ *headers.Range) error {
	r.to <- location
	return nil
}

// TestCameraMovedRedirects: when a playing camera stops and Config.Moved
// knows where it went, its RTSP viewers get a REDIRECT there instead of a
// BYE, and their sessions are left for the server to end; when it knows of
// no place, they get the BYE.
func TestCameraMovedRedirects(t *testing.T) {
	var asked chan string
	moved := func(ctx context.Context, camera string) (string, bool) {
		select {
		case to := <-asked:
			return to + "/" + camera, to != ""
		case <-ctx.Done():
			return "", false
		}
	}
	r, cam := newRelay(t, live.Config{Moved: moved})
	asked = make(chan string, 1)
	cam.frames(3)
	o := newOut()
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pres.Close(rtsp.ErrTeardown) })
	rd := redirector{to: make(chan string, 1)}
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: []int{0, 1}, Out: o, Redirect: rd})
	if err != nil {
		t.Fatal(err)
	}
	resp.Start()
	asked <- "rtsp://node2:8554"
	cam.w.Close()
	if to := <-rd.to; to != "rtsp://node2:8554/cam" {
		t.Fatalf("redirected to %q", to)
	}
	for _, p := range o.count(t, 1) {
		if p.rtcp && len(p.b) > 9 && p.b[9] == 203 {
			t.Fatal("a BYE was sent to a redirected viewer")
		}
	}
	if err := pres.(rtsp.Ender).Ended(); err != nil {
		t.Fatalf("Ended = %v after the redirect, want nil (the server ends the session)", err)
	}
}
