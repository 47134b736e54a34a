package playback_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

func clock(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }

// TestStatusCodes walks the error answers of the archive (RTSP.md 1.1).
func TestStatusCodes(t *testing.T) {
	addr := testServer(t)
	c := dial(t, addr)
	if r := c.do("DESCRIBE", c.url("archive/nosuchcam")); r.StatusCode != 404 || r.Reason != "Camera Not Found" {
		t.Errorf("unknown camera: %d %q, want 404 Camera Not Found", r.StatusCode, r.Reason)
	}
	if r := c.do("DESCRIBE", c.url("archive/cam?start=2030-01-01T00:00:00Z")); r.StatusCode != 404 || r.Reason != "No Recording In Window" {
		t.Errorf("empty window: %d %q, want 404 No Recording In Window", r.StatusCode, r.Reason)
	}
	if r := c.do("DESCRIBE", c.url("archive/cam?start=yesterday")); r.StatusCode != 400 {
		t.Errorf("bad window: %d, want 400", r.StatusCode)
	}
	d := c.do("DESCRIBE", c.url("archive/cam"), "Accept: application/sdp")
	if d.StatusCode != 200 || !strings.HasSuffix(d.Header.Get("Content-Base"), "/archive/cam/") {
		t.Fatalf("DESCRIBE: %d Content-Base %q", d.StatusCode, d.Header.Get("Content-Base"))
	}
	for _, want := range []string{"a=range:npt=0-60.000", "a=range:clock=20261124T100000", "a=control:trackID=0", "H264/90000"} {
		if !strings.Contains(string(d.Body), want) {
			t.Errorf("SDP lacks %q:\n%s", want, d.Body)
		}
	}
	if r := c.do("PLAY", d.Header.Get("Content-Base")); r.StatusCode != 454 && r.StatusCode != 455 {
		t.Errorf("PLAY before SETUP: %d, want 454 or 455", r.StatusCode)
	}
	r := c.do("SETUP", c.track(d, "trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1", "Require: funky-feature")
	if r.StatusCode != 551 || r.Header.Get("Unsupported") != "funky-feature" {
		t.Errorf("Require funky-feature: %d Unsupported %q, want 551", r.StatusCode, r.Header.Get("Unsupported"))
	}
	c.setup("archive/cam")
	base := c.url("archive/cam/")
	for _, tc := range []struct {
		rng    string
		status int
	}{
		{"npt=500-", 457},
		{"clock=" + clock(t0.Add(-time.Hour)) + "-", 457},
		{"smpte=0:10:00-", 501},
		{"npt=bogus", 400},
	} {
		if r := c.do("PLAY", base, "Range: "+tc.rng); r.StatusCode != tc.status {
			t.Errorf("PLAY Range %s: %d, want %d", tc.rng, r.StatusCode, tc.status)
		}
	}
	if r := c.do("PLAY", base, "Range: npt=10-", "Scale: 0"); r.StatusCode != 400 {
		t.Errorf("Scale 0: %d, want 400", r.StatusCode)
	}
	if r := c.do("TEARDOWN", base); r.StatusCode != 200 {
		t.Errorf("TEARDOWN: %d", r.StatusCode)
	}
}

// TestPlayFromRange checks the response (Range, RTP-Info) and that the first
// access unit is the keyframe at or before the requested time.
func TestPlayFromRange(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=12.5-")
	if r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	if r.Header.Get("Range") != "npt=12.000-60.000" {
		t.Errorf("Range %q, want npt=12.000-60.000 (the keyframe at or before 12.5 s)", r.Header.Get("Range"))
	}
	seq, rtptime := rtpInfo(t, r.Header.Get("RTP-Info"))
	au := c.mustAU()
	if au.frame != 12*fps || !au.key {
		t.Errorf("first AU is frame %d (key %v), want keyframe %d", au.frame, au.key, 12*fps)
	}
	if au.seq != seq || au.ts != rtptime {
		t.Errorf("first packet seq %d ts %d, RTP-Info said %d %d", au.seq, au.ts, seq, rtptime)
	}
}

func rtpInfo(t *testing.T, v string) (uint16, uint32) {
	t.Helper()
	var seq uint16
	var ts uint32
	for _, part := range strings.Split(v, ";") {
		if s, ok := strings.CutPrefix(part, "seq="); ok {
			fmt.Sscan(s, &seq)
		}
		if s, ok := strings.CutPrefix(part, "rtptime="); ok {
			fmt.Sscan(s, &ts)
		}
	}
	if !strings.Contains(v, "url=") {
		t.Errorf("RTP-Info %q has no url", v)
	}
	return seq, ts
}

// TestONVIFReplayExtension checks the 0xABAC extension byte by byte
// (ONVIF-09/10): NTP of each access unit within one frame of its recorded
// wall clock, C on keyframes, D on the first after PLAY, the PLAY CSeq's
// low byte, zero padding.
func TestONVIFReplayExtension(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam", "Require: onvif-replay")
	start := t0.Add(20 * time.Second)
	r := c.do("PLAY", c.url("archive/cam/"), "Require: onvif-replay", "Range: clock="+clock(start)+"-")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Range"), "clock=20261124T100020") {
		t.Fatalf("PLAY: %d Range %q", r.StatusCode, r.Header.Get("Range"))
	}
	playCSeq := byte(c.CSeq)
	for i := range 30 {
		au := c.mustAU()
		if len(au.ext) != 12 {
			t.Fatalf("AU %d (frame %d) has no ONVIF extension", i, au.frame)
		}
		ntp := fmp4.NTPToTime(binary.BigEndian.Uint64(au.ext[0:8]))
		want := t0.Add(time.Duration(au.frame) * frameDur)
		if d := ntp.Sub(want).Abs(); d >= frameDur {
			t.Errorf("frame %d: NTP %v, recorded at %v", au.frame, ntp, want)
		}
		flags, cseq := au.ext[8], au.ext[9]
		if (flags&0x80 != 0) != au.key {
			t.Errorf("frame %d: C flag %v, keyframe %v", au.frame, flags&0x80 != 0, au.key)
		}
		if (flags&0x20 != 0) != (i == 0) {
			t.Errorf("frame %d (AU %d): D flag %v", au.frame, i, flags&0x20 != 0)
		}
		if flags&0x0f != 0 || cseq != playCSeq || au.ext[10] != 0 || au.ext[11] != 0 {
			t.Errorf("frame %d: extension tail % x, want CSeq %d and zeros", au.frame, au.ext[8:], playCSeq)
		}
	}
}

// TestSDPRangeOrder checks the a=range lines (SDP-05, ONVIF-03, issue 12):
// npt first by default, for plain rtspsrc, which keeps the first
// session-level range; clock first when the DESCRIBE requires onvif-replay,
// for ONVIF clients such as rtspsrc in onvif-mode; and the npt range again
// in the m= section, last, because ffmpeg keeps the last a=range.
func TestSDPRangeOrder(t *testing.T) {
	c := dial(t, testServer(t))
	npt, clk := "a=range:npt=0-60.000", "a=range:clock=20261124T100000Z-20261124T100100Z"
	for _, tc := range []struct {
		name string
		hdr  []string
		want []string
	}{
		{"default", nil, []string{npt, clk, npt}},
		{"onvif-replay", []string{"Require: onvif-replay"}, []string{clk, npt, npt}},
	} {
		d := c.do("DESCRIBE", c.url("archive/cam"), append([]string{"Accept: application/sdp"}, tc.hdr...)...)
		var got []string
		for line := range strings.Lines(string(d.Body)) {
			if strings.HasPrefix(line, "a=range:") {
				got = append(got, strings.TrimSpace(line))
			}
		}
		if d.StatusCode != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %d, ranges %q, want %q", tc.name, d.StatusCode, got, tc.want)
		}
	}
}

// TestClockRangeFromNTPEpoch plays the clock ranges that rtspsrc in
// onvif-mode builds from the npt range of the SDP, as seconds since
// 1900-01-01 (issue 12): a clock time before 1970 is an offset into the
// window, and the response counts the same way. The seek lands on the
// keyframe at or before the asked time.
func TestClockRangeFromNTPEpoch(t *testing.T) {
	c := dial(t, testServer(t))
	d := c.do("DESCRIBE", c.url(fmt.Sprintf("archive/cam?start=%d", t0.Add(10*time.Second).Unix())), "Accept: application/sdp")
	if s := c.do("SETUP", c.track(d, "trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); s.StatusCode != 200 {
		t.Fatalf("SETUP: %d", s.StatusCode)
	}
	u := d.Header.Get("Content-Base")
	r := c.do("PLAY", u, "Range: clock=19000101T000000Z-19000101T000050Z", "Rate-Control: yes")
	if r.StatusCode != 200 || r.Header.Get("Range") != "clock=19000101T000000Z-19000101T000050Z" {
		t.Fatalf("PLAY: %d Range %q", r.StatusCode, r.Header.Get("Range"))
	}
	if au := c.mustAU(); au.frame != 10*fps || !au.key {
		t.Errorf("first AU: frame %d key %v, want keyframe %d (the window start)", au.frame, au.key, 10*fps)
	}
	r = c.do("PLAY", u, "Range: clock=19000101T000012.5Z-", "Rate-Control: yes")
	if r.StatusCode != 200 || r.Header.Get("Range") != "clock=19000101T000012Z-19000101T000050Z" {
		t.Fatalf("seek: %d Range %q, want the keyframe at 12 s into the window", r.StatusCode, r.Header.Get("Range"))
	}
	seq, _ := rtpInfo(t, r.Header.Get("RTP-Info"))
	au := c.mustAU()
	for au.seq != seq { // AUs of the first range still in flight
		au = c.mustAU()
	}
	if au.frame != 22*fps || !au.key {
		t.Errorf("after the seek: frame %d key %v, want keyframe %d", au.frame, au.key, 22*fps)
	}
	if r := c.do("PLAY", u, "Range: clock=19000101T000050Z-"); r.StatusCode != 457 {
		t.Errorf("PLAY at the window end: %d, want 457", r.StatusCode)
	}
}

// TestScale4 plays at Scale 4: keyframes only, said with Frames: intra,
// at four times the pace.
func TestScale4(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	played := time.Now()
	r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=10-", "Scale: 4")
	if r.StatusCode != 200 || r.Header.Get("Scale") != "4" && r.Header.Get("Scale") != "4.0" || r.Header.Get("Frames") != "intra" {
		t.Fatalf("PLAY: %d Scale %q Frames %q", r.StatusCode, r.Header.Get("Scale"), r.Header.Get("Frames"))
	}
	var aus []received
	for range 9 {
		aus = append(aus, c.mustAU())
	}
	for i, au := range aus {
		if !au.key || au.frame != (10+i)*fps {
			t.Errorf("AU %d: frame %d key %v, want keyframe %d", i, au.frame, au.key, (10+i)*fps)
		}
	}
	// 8 s of media between the first and the ninth keyframe: 2 s at Scale 4.
	checkPace(t, played, aus[8].arrived, 2*time.Second)
	if dts := aus[1].ts - aus[0].ts; dts != 90000/4 {
		t.Errorf("RTP timestamps advance %d per keyframe, want %d (playback time)", dts, 90000/4)
	}
}

// checkPace checks that the media paced since PLAY was sent at played, whose last frame
// arrived at last, took about want. The server sends each frame at its due time after PLAY
// and never early, so want is a hard lower bound; a server late by load catches up on its
// schedule, so the upper bound is loose for a busy machine.
func checkPace(t *testing.T, played, last time.Time, want time.Duration) {
	t.Helper()
	if d := last.Sub(played); d < want*95/100 || d > want*3/2+500*time.Millisecond {
		t.Errorf("paced media due %v after PLAY arrived after %v", want, d)
	}
}

// TestScaleMinus1 plays backwards: GOPs in descending time order, each
// GOP's frames in decode order, D on every GOP's first frame (ONVIF-11).
func TestScaleMinus1(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	start, end := t0.Add(30*time.Second), t0.Add(26*time.Second)
	r := c.do("PLAY", c.url("archive/cam/"), "Require: onvif-replay", "Rate-Control: no", "Scale: -1",
		"Range: clock="+clock(start)+"-"+clock(end))
	if r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	var keys []int
	prev := -1
	for {
		au, bye := c.readAU()
		if bye {
			break
		}
		if au.key {
			if d := au.ext[8]&0x20 != 0; !d {
				t.Errorf("GOP start frame %d lacks the D flag", au.frame)
			}
			keys = append(keys, au.frame)
		} else if au.frame != prev+1 {
			t.Errorf("frame %d follows %d inside a GOP", au.frame, prev)
		}
		prev = au.frame
	}
	want := []int{30 * fps, 29 * fps, 28 * fps, 27 * fps, 26 * fps}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("GOPs started at frames %v, want %v", keys, want)
	}
}

// TestRateControlNo delivers the whole 60 s window as fast as the client
// reads, ending with RTCP BYE.
func TestRateControlNo(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	began := time.Now()
	r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=0-", "Rate-Control: no")
	if r.StatusCode != 200 || r.Header.Get("Rate-Control") != "no" {
		t.Fatalf("PLAY: %d Rate-Control %q", r.StatusCode, r.Header.Get("Rate-Control"))
	}
	n := 0
	for {
		if _, bye := c.readAU(); bye {
			break
		}
		n++
	}
	took := time.Since(began)
	if n != archiveLen*fps {
		t.Errorf("%d frames, want %d", n, archiveLen*fps)
	}
	if took >= archiveLen*time.Second/2 { // paced, it would take the whole 60 s
		t.Errorf("a 60 s window took %v without rate control", took)
	}
	t.Logf("60 s window in %v", took.Round(time.Millisecond))
}

// TestSeekKeepsTimelineContinuous seeks while playing (Immediate) and checks
// that sequence numbers continue and timestamps advance by about one frame.
func TestSeekKeepsTimelineContinuous(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	// Paced, so that the last frame read is about the last frame sent.
	if r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=5-"); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	var last received
	for range 10 {
		last = c.mustAU()
	}
	r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=40-", "Immediate: yes", "Rate-Control: no")
	if r.StatusCode != 200 {
		t.Fatalf("seek PLAY: %d", r.StatusCode)
	}
	seq, rtptime := rtpInfo(t, r.Header.Get("RTP-Info"))
	var au received
	for au = c.mustAU(); au.seq != seq; au = c.mustAU() { // AUs of the old range still in flight
	}
	if au.frame != 40*fps || au.ts != rtptime {
		t.Errorf("after seek: frame %d ts %d, want frame %d ts %d", au.frame, au.ts, 40*fps, rtptime)
	}
	if d := int32(rtptime - last.ts); d <= 0 || d > 90000 {
		t.Errorf("timestamp moved by %d ticks across the seek", d)
	}
}

// TestSenderReportWithFirstPacket: every PLAY (the first, a seek, a resume)
// sends each stream's sender report just before its first packet, mapping
// that packet's timestamp to its recorded time (issue 12: gortsplib's
// client placed the frames after a seek by the seek distance off until the
// 5 s timer's report).
func TestSenderReportWithFirstPacket(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/cam")
	u := c.url("archive/cam/")
	check := func(what string, r *base.Response) {
		t.Helper()
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d", what, r.StatusCode)
		}
		seq, rtptime := rtpInfo(t, r.Header.Get("RTP-Info"))
		var rng headers.Range
		if err := rng.Unmarshal(r.Header.Get("Range")); err != nil || rng.Start == nil {
			t.Fatalf("%s: Range %q: %v", what, r.Header.Get("Range"), err)
		}
		sr, ts := c.reportBefore(seq)
		want := t0.Add(rng.Start.Offset) // the keyframe the play starts at, as recorded
		if ts != rtptime || sr.ts != rtptime || sr.ntp.Sub(want).Abs() > time.Millisecond {
			t.Errorf("%s: first packet ts %d (RTP-Info %d), report maps ts %d to %v, want %v",
				what, ts, rtptime, sr.ts, sr.ntp, want)
		}
	}
	check("first PLAY", c.do("PLAY", u, "Range: npt=5-"))
	for range 5 {
		c.mustAU()
	}
	check("seek", c.do("PLAY", u, "Range: npt=40.5-", "Immediate: yes"))
	for range 5 {
		c.mustAU()
	}
	if r := c.do("PAUSE", u); r.StatusCode != 200 {
		t.Fatalf("PAUSE: %d", r.StatusCode)
	}
	check("resume", c.do("PLAY", u))
}

// TestGapSkipped plays across a 20 s recording gap without waiting for it
// and without a timestamp jump; the last frame before the gap has E.
func TestGapSkipped(t *testing.T) {
	c := dial(t, testServer(t))
	c.setup("archive/gap", "Require: onvif-replay")
	if r := c.do("PLAY", c.url("archive/gap/"), "Require: onvif-replay", "Range: npt=8-"); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	began := time.Now()
	var prev received
	sawE := false
	for i := 0; ; i++ {
		au := c.mustAU()
		if i > 0 {
			if d := au.ts - prev.ts; d != 3600 {
				t.Fatalf("timestamp step %d between frames %d and %d", d, prev.frame, au.frame)
			}
		}
		if prev.frame == 10*fps-1 && prev.ext[8]&0x40 != 0 {
			sawE = true
		}
		if au.frame == 25 { // second recording, frame 25: 1 s past the gap
			break
		}
		prev = au
	}
	// Waiting for the gap would take 3 s + 20 s; a busy machine only delays the 3 s.
	if took := time.Since(began); took >= 3*time.Second+10*time.Second {
		t.Errorf("3 s of media across a 20 s gap took %v", took)
	}
	if !sawE {
		t.Error("the last frame before the gap lacks the E flag")
	}
}

// TestWindowStartParameter opens ?start=<RFC 3339>: npt 0 is that instant
// and the first frame is the keyframe there.
func TestWindowStartParameter(t *testing.T) {
	c := dial(t, testServer(t))
	path := "archive/cam?start=" + t0.Add(20*time.Second).Format(time.RFC3339)
	d := c.do("DESCRIBE", c.url(path), "Accept: application/sdp")
	if d.StatusCode != 200 || !strings.Contains(string(d.Body), "a=range:npt=0-40.000") {
		t.Fatalf("DESCRIBE: %d\n%s", d.StatusCode, d.Body)
	}
	if s := c.do("SETUP", c.track(d, "trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); s.StatusCode != 200 {
		t.Fatalf("SETUP: %d", s.StatusCode)
	}
	r := c.do("PLAY", d.Header.Get("Content-Base"), "Range: npt=0.000-")
	if r.StatusCode != 200 || r.Header.Get("Range") != "npt=0.000-40.000" {
		t.Fatalf("PLAY: %d Range %q", r.StatusCode, r.Header.Get("Range"))
	}
	if au := c.mustAU(); au.frame != 20*fps || !au.key {
		t.Errorf("first AU: frame %d key %v, want keyframe %d", au.frame, au.key, 20*fps)
	}
}

// TestTimeShiftFollowsRecording plays a camera that is still recording: the
// window without an end grows (a=range:npt=0-), and frames recorded after
// the PLAY arrive as they are written.
func TestTimeShiftFollowsRecording(t *testing.T) {
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, st)
	live := startLiveRecording(t, st, "live", 6*time.Second)
	<-live.firstFragment
	waitIndexed(t, st, "live")
	c := dial(t, addr)
	d := c.do("DESCRIBE", c.url("archive/live"), "Accept: application/sdp")
	if d.StatusCode != 200 || !strings.Contains(string(d.Body), "a=range:npt=0-\r\n") {
		t.Fatalf("DESCRIBE: %d\n%s", d.StatusCode, d.Body)
	}
	if s := c.do("SETUP", c.track(d, "trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); s.StatusCode != 200 {
		t.Fatalf("SETUP: %d", s.StatusCode)
	}
	if r := c.do("PLAY", d.Header.Get("Content-Base"), "Range: npt=0-"); r.StatusCode != 200 {
		t.Fatalf("PLAY: %d", r.StatusCode)
	}
	playedAt := time.Now()
	last := -1
	for last < 4*fps {
		au := c.mustAU()
		if au.frame != last+1 {
			t.Fatalf("frame %d after %d", au.frame, last)
		}
		last = au.frame
	}
	if took := time.Since(playedAt); took < 2*time.Second {
		t.Errorf("4 s of a live recording arrived in %v: it cannot have followed the recording", took)
	}
	live.stop()
}

// liveRecording writes the numbered test stream at real-time pace.
type liveRecording struct {
	firstFragment chan struct{}
	done          chan struct{}
	cancel        chan struct{}
}

func startLiveRecording(t *testing.T, st *storage.Store, camera string, length time.Duration) *liveRecording {
	t.Helper()
	r, err := recorder.New(recorder.Config{}, st)
	if err != nil {
		t.Fatal(err)
	}
	track := &media.Track{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
		SPS: testSPS, PPS: testPPS, Width: 1280, Height: 720}
	rec, err := r.Open(camera, []*media.Track{track}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := &liveRecording{firstFragment: make(chan struct{}), done: make(chan struct{}), cancel: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer r.Close()
		defer rec.Close()
		tick := time.NewTicker(frameDur)
		defer tick.Stop()
		seq := uint16(0)
		for i := 0; i < int(length/frameDur); i++ {
			for _, p := range numberedFrame(i, &seq) {
				rec.WriteRTP(0, p)
			}
			if i == fps+1 {
				close(l.firstFragment) // the keyframe at 1 s closed the first fragment
			}
			select {
			case <-tick.C:
			case <-l.cancel:
				return
			}
		}
	}()
	t.Cleanup(l.stop)
	return l
}

// waitIndexed returns once the index holds a fragment of camera: the recorder writes
// through a queue, so frames handed to it are not yet findable by a DESCRIBE.
func waitIndexed(t *testing.T, st *storage.Store, camera string) {
	t.Helper()
	var segs []storage.SegmentInfo
	var err error
	rtsptest.WaitFor(t, "a segment of "+camera+" in the index", func() bool {
		segs, err = st.Segments(camera, time.Time{}, time.Time{}, false)
		return err != nil || len(segs) > 0
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), rtsptest.Timeout)
	defer cancel()
	if _, err := st.WaitFragments(ctx, camera, segs[0].Start, 0); err != nil {
		t.Fatalf("waiting for the first fragment of %s: %v", camera, err)
	}
}

func (l *liveRecording) stop() {
	select {
	case <-l.cancel:
	default:
		close(l.cancel)
	}
	<-l.done
}

// TestScaleTwoAndHalf plays every frame at twice and half the pace; RTP
// timestamps follow playback time (RTSP-RNG-13: 3600-tick frames become
// 1800 and 7200 ticks apart).
func TestScaleTwoAndHalf(t *testing.T) {
	addr := testServer(t)
	for _, tc := range []struct {
		scale  string
		step   uint32
		frames int
		dur    time.Duration
	}{
		{"2", 1800, 50, 2 * time.Second / 2},
		{"0.5", 7200, 10, 10 * frameDur * 2},
	} {
		t.Run(tc.scale, func(t *testing.T) {
			c := dial(t, addr)
			c.setup("archive/cam")
			played := time.Now()
			r := c.do("PLAY", c.url("archive/cam/"), "Range: npt=10-", "Scale: "+tc.scale)
			if r.StatusCode != 200 || r.Header.Get("Frames") != "" || !strings.HasPrefix(r.Header.Get("Scale"), strings.TrimSuffix(tc.scale, ".0")) {
				t.Fatalf("PLAY: %d Scale %q Frames %q", r.StatusCode, r.Header.Get("Scale"), r.Header.Get("Frames"))
			}
			first := c.mustAU()
			prev := first
			for range tc.frames {
				au := c.mustAU()
				if au.frame != prev.frame+1 || au.ts-prev.ts != tc.step {
					t.Fatalf("frame %d ts step %d after frame %d, want every frame %d ticks apart", au.frame, au.ts-prev.ts, prev.frame, tc.step)
				}
				prev = au
			}
			checkPace(t, played, prev.arrived, tc.dur)
		})
	}
}
