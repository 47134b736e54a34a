package bench

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

func TestParseLive(t *testing.T) {
	t.Parallel()
	o, err := parseLive([]string{"-n", "100,500", "-cameras", "200", "-viewers-per-camera", "3", "-on-demand", "4",
		"-linger", "5s", "-gop", "1s", "-join", "2s", "-measure", "10s", "-camvault", "x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.counts, []int{100, 500}) || o.cameras != 200 || o.perCamera != 3 || o.onDemand != 4 ||
		o.linger != 5*time.Second || o.clip.gop != time.Second || o.clip.gopFrames() != 25 || o.join != 2*time.Second ||
		o.measure != 10*time.Second || o.server.exe != "x" {
		t.Errorf("parseLive = %+v", o)
	}
	o, err = parseLive(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.counts, []int{100}) || o.cameras != 0 || o.perCamera != 2 || o.onDemand != 10 ||
		o.clip.gopFrames() != 50 || o.clip.duration != time.Minute || o.linger != 10*time.Second {
		t.Errorf("parseLive defaults = %+v", o)
	}
	// -n "" runs no single-camera round.
	if o, err = parseLive([]string{"-n", "", "-on-demand", "1"}, io.Discard); err != nil || o.counts != nil {
		t.Errorf("parseLive -n \"\" = %+v, %v", o, err)
	}
}

func TestStartsKeyframe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"SPS", []byte{0x67, 0x42}, true},
		{"IDR", []byte{0x65, 0x88}, true},
		{"STAP-A SPS PPS", []byte{0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68}, true},
		{"STAP-A IDR", []byte{0x78, 0, 2, 0x65, 0x88}, true},
		{"STAP-A SEI", []byte{0x78, 0, 2, 0x06, 0x05}, false},
		{"STAP-A short", []byte{0x78, 0, 2}, false},
		{"FU-A IDR start", []byte{0x7c, 0x85, 0x88}, true},
		{"FU-A IDR middle", []byte{0x7c, 0x05, 0x88}, false},
		{"FU-A P start", []byte{0x7c, 0x81, 0x9a}, false},
		{"P slice", []byte{0x41, 0x9a}, false},
		{"PPS", []byte{0x68, 0xce}, false},
		{"empty", nil, false},
	} {
		if got := startsKeyframe(tc.payload); got != tc.want {
			t.Errorf("%s: startsKeyframe = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRTPPayload(t *testing.T) {
	t.Parallel()
	plain := rtpPacket(96, 1, 0, false, 3)
	csrc := append([]byte{0x81}, plain[1:12]...)
	csrc = append(append(csrc, 1, 2, 3, 4), plain[12:]...)
	ext := append([]byte{0x90}, plain[1:12]...)
	ext = append(append(ext, 0xbe, 0xde, 0, 1, 9, 9, 9, 9), plain[12:]...)
	for _, tc := range []struct {
		name string
		pkt  []byte
		want []byte
	}{
		{"plain", plain, plain[12:]},
		{"one CSRC", csrc, plain[12:]},
		{"extension", ext, plain[12:]},
		{"extension cut", ext[:14], nil},
		{"CSRC past the end", append([]byte{0x8f}, plain[1:]...), nil},
	} {
		if got := rtpPayload(tc.pkt); string(got) != string(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s: rtpPayload = % x, want % x", tc.name, got, tc.want)
		}
	}
}

// videoPacket is an RTP packet of the bench's H.264 stream with payload.
func videoPacket(seq uint16, ts uint32, marker bool, payload ...byte) []byte {
	p := rtpPacket(96, seq, ts, marker, 0)
	return append(p, payload...)
}

// TestLiveViewer checks a viewer's checks: RTP-Info's sequence numbers at
// each stream's first packet, a first video packet that starts a keyframe,
// the time to it, frames by marker bit and sequence gaps; the read ends
// without an error at its deadline.
func TestLiveViewer(t *testing.T) {
	key := []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce} // STAP-A SPS PPS
	idr, p := []byte{0x65, 0x88}, []byte{0x41, 0x9a}
	for _, tc := range []struct {
		name     string
		rtpInfo  string
		channels []uint8
		packets  [][]byte
		keyed    bool
		bad      string // in badStart; "" for none
		frames   int
		gaps     int
	}{
		{"good start", "url=a/trackID=0;seq=10;rtptime=0,url=a/trackID=1;seq=500;rtptime=0",
			[]uint8{1, 0, 0, 2, 0, 2},
			[][]byte{rtcpPacket(200, 6), videoPacket(10, 0, false, key...), videoPacket(11, 0, true, idr...),
				rtpPacket(97, 500, 0, true, 20), videoPacket(12, 3600, true, p...), rtpPacket(97, 501, 0, true, 20)},
			true, "", 2, 0},
		{"no seq in RTP-Info: any first seq", "url=a/trackID=0,url=a/trackID=1",
			[]uint8{0, 0, 2}, [][]byte{videoPacket(7, 0, true, idr...), videoPacket(8, 3600, true, p...), rtpPacket(97, 90, 0, true, 20)},
			true, "", 2, 0},
		{"gaps", "", []uint8{0, 0, 0, 2, 2},
			[][]byte{videoPacket(1, 0, true, idr...), videoPacket(3, 3600, true, p...), videoPacket(4, 7200, true, p...),
				rtpPacket(97, 70, 0, true, 20), rtpPacket(97, 72, 0, true, 20)},
			true, "", 3, 2},
		{"video starts with a P frame", "", []uint8{0, 0}, [][]byte{videoPacket(1, 0, true, p...), videoPacket(2, 3600, true, idr...)},
			true, "does not start a keyframe", 2, 0},
		{"first seq is not RTP-Info's", "url=a/trackID=0;seq=10,url=a/trackID=1;seq=500", []uint8{0, 2},
			[][]byte{videoPacket(11, 0, true, idr...), rtpPacket(97, 500, 0, true, 20)},
			true, "stream 0 started at seq 11, RTP-Info said 10", 1, 0},
		{"audio seq is not RTP-Info's", "url=a/trackID=0;seq=10,url=a/trackID=1;seq=500", []uint8{0, 2},
			[][]byte{videoPacket(10, 0, true, idr...), rtpPacket(97, 499, 0, true, 20)},
			true, "stream 1 started at seq 499", 1, 0},
		{"no keyframe", "", []uint8{0}, [][]byte{videoPacket(1, 0, true, p...)}, false, "does not start a keyframe", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reqs := make(chan *base.Request, 16)
			cam := rtsptest.NewCamera(t)
			var playHdr []string
			if tc.rtpInfo != "" {
				playHdr = []string{"RTP-Info", tc.rtpInfo}
			}
			cam.Serve(serverScript(testClip(1, time.Millisecond).SDP(), frames(t, tc.channels, tc.packets...), false, reqs, playHdr...))
			v := newLiveViewer(cam.Addr, "cam1")
			if err := v.start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := v.read(time.Now().Add(300*time.Millisecond), false); err != nil {
				t.Errorf("read: %v", err)
			}
			v.close()
			cam.Wait(t)
			close(reqs)
			st := v.stats
			if st.keyed != tc.keyed || st.frames != tc.frames || st.gaps != tc.gaps ||
				(tc.bad == "") != (st.badStart == "") || !strings.Contains(st.badStart, tc.bad) {
				t.Errorf("stats %+v, want keyed %v, %d frames, %d gaps, bad start %q", st, tc.keyed, tc.frames, tc.gaps, tc.bad)
			}
			if tc.keyed && (st.firstKey <= 0 || st.firstKey > 300*time.Millisecond || st.setup <= 0) {
				t.Errorf("setup %v, PLAY to first keyframe %v", st.setup, st.firstKey)
			}
			var methods []base.Method
			for r := range reqs {
				methods = append(methods, r.Method)
				if r.Method == base.MethodPlay && r.Header.Get("Range") != "" {
					t.Errorf("live PLAY with Range %q", r.Header.Get("Range"))
				}
			}
			want := []base.Method{base.MethodDescribe, base.MethodSetup, base.MethodSetup, base.MethodPlay, base.MethodTeardown}
			if !slices.Equal(methods, want) {
				t.Errorf("requests %v, want %v", methods, want)
			}
		})
	}
}

// TestLiveViewerUntilKey: with untilKey the read returns at the first
// packet that starts a keyframe, not at its deadline.
func TestLiveViewerUntilKey(t *testing.T) {
	reqs := make(chan *base.Request, 16)
	media := frames(t, []uint8{0, 0}, videoPacket(1, 0, true, 0x41), videoPacket(2, 3600, true, 0x65))
	cam := rtsptest.NewCamera(t)
	cam.Serve(serverScript(testClip(1, time.Millisecond).SDP(), media, false, reqs))
	v := newLiveViewer(cam.Addr, "cam1")
	defer v.close()
	if err := v.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := v.read(time.Now().Add(time.Minute), true); err != nil || !v.stats.keyed || time.Since(began) > 30*time.Second {
		t.Errorf("read until the keyframe: %v, stats %+v after %v", err, v.stats, time.Since(began))
	}
}

func TestOnDemandConf(t *testing.T) {
	t.Parallel()
	conf, names := onDemandConf(2, 3*time.Second, func(k int) string { return "rtsp://127.0.0.1:9/cam-" + string(rune('0'+k)) })
	want := "pull: {on_demand_linger: 3s}\ncameras:\n" +
		"  od-000: {url: \"rtsp://127.0.0.1:9/cam-0\", on_demand: true}\n" +
		"  od-001: {url: \"rtsp://127.0.0.1:9/cam-1\", on_demand: true}\n"
	if conf != want || !slices.Equal(names, []string{"od-000", "od-001"}) {
		t.Errorf("onDemandConf = %q, %q", conf, names)
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	var tl tally
	tl.check(liveStats{badStart: "first", gaps: 2})
	tl.check(liveStats{badStart: "second"})
	tl.add("failed", "")
	want := []string{"started wrong: 2 viewers (first: first)", "missed packets: 1 viewers (first: 2 sequence gaps)", "failed: 1 viewers"}
	if got := tl.lines(); !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestLiveResultPrint(t *testing.T) {
	t.Parallel()
	r := &liveResult{cameras: 1, viewers: 100, baseCPU: 0.01, cpu: 0.11, benchCPU: 0.2, baseRSS: 20 << 20, rss: 120 << 20,
		starts: []time.Duration{time.Millisecond, 3 * time.Millisecond}, frames: 5000, expected: 1500, recorded: 1500}
	var b strings.Builder
	r.print(&b)
	want := "    1     100       1.0    11.0      0.1000     20.0   120.0     1024.0        3ms        3ms        3ms         0       0            5000      0       20.0\n"
	if b.String() != want || r.failed() {
		t.Errorf("print =\n%q\nwant\n%q (failed %v)", b.String(), want, r.failed())
	}
}
