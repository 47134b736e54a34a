//go:build interop

package interop

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostileRSSBound is the most RSS camvault (built with -race, which multiplies memory) may
// reach while it records one push and answers the hostile ANNOUNCEs; it uses about 40 MiB.
// Before the fix of issue 9 defect 1 one such ANNOUNCE took it past 11 GB and to "out of
// memory"; against that code, with its address space capped 3 GiB above its start, this
// test saw no answer to either ANNOUNCE and 1.5 GiB of RSS.
const hostileRSSBound = 256 << 20

// hostileVPSAnnounce is the ANNOUNCE of issue 9, defect 1 for camera: an H.265 SDP whose
// sprop-vps carries a VPS extension that mp4ff v0.56.0 parsed without bound.
func hostileVPSAnnounce(t *testing.T, addr, camera string, cseq int) string {
	t.Helper()
	vps, err := hex.DecodeString("40010c01ffff0408000003009e0800000300003c95980b7020200040000003004000000642")
	if err != nil {
		t.Fatal(err)
	}
	sdp := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 sprop-vps=" +
		base64.StdEncoding.EncodeToString(vps) + "\r\na=control:streamid=0\r\n"
	return fmt.Sprintf("ANNOUNCE rtsp://%s/%s RTSP/1.0\r\nCSeq: %d\r\nContent-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s", addr, camera, cseq, len(sdp), sdp)
}

// rssBytes returns the resident set size of process pid from /proc.
func rssBytes(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// waitLogLine polls camvault's log until one line holds every part, failing after timeout
// or if camvault exits.
func (s *server) waitLogLine(timeout time.Duration, parts ...string) {
	s.t.Helper()
	s.waitLogLines(timeout, 1, parts...)
}

// waitLogLines polls camvault's log until n lines hold every part, failing after timeout
// or if camvault exits.
func (s *server) waitLogLines(timeout time.Duration, n int, parts ...string) {
	s.t.Helper()
	s.waitFor(timeout, fmt.Sprintf("%d log lines with %q", n, parts), func() bool {
		seen := 0
		for line := range strings.Lines(s.logs.String()) {
			if containsAll(line, parts) {
				seen++
			}
		}
		return seen >= n
	})
}

// containsAll reports whether s contains every part.
func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestHostileVPSAnnounceDuringPush is the interop regression test of issue 9, defect 1:
// while ffmpeg pushes over TCP, a raw client sends the hostile ANNOUNCE, then the same SDP
// on a second connection. Each must get 200 (the VPS dropped, which media's
// TestTracksFromSDPHostileVPS checks) or a 4xx; camvault must stay up with its RSS under
// hostileRSSBound, and ffmpeg's recording must hold its frames and decode cleanly.
func TestHostileVPSAnnounceDuringPush(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, "")
	type pushResult struct {
		start time.Time
		out   string
		err   error
	}
	pushed := make(chan pushResult, 1)
	go func() {
		start, out, err := ffmpegPush(t, "rtsp://"+s.rtsp+"/cam1", "tcp", false, x264Baseline)
		pushed <- pushResult{start, out, err}
	}()
	s.waitLogLine(20*time.Second, `msg="recording started"`, "camera=cam1")
	for i, camera := range []string{"evil1", "evil2"} {
		resp, err := rawRequest(s.rtsp, hostileVPSAnnounce(t, s.rtsp, camera, i+1))
		if err != nil {
			t.Errorf("ANNOUNCE %s: %v (response %q)", camera, err, resp)
			continue // the loop below tells whether camvault survives
		}
		status := strings.SplitN(resp, " ", 3)
		if len(status) < 2 || status[1] != "200" && !strings.HasPrefix(status[1], "4") {
			t.Errorf("ANNOUNCE %s answered %q, want 200 or 4xx", camera, strings.SplitN(resp, "\r\n", 2)[0])
		}
		t.Logf("ANNOUNCE %s: %s", camera, strings.SplitN(resp, "\r\n", 2)[0])
	}
	maxRSS := rssBytes(t, s.cmd.Process.Pid)
	tick := time.NewTicker(100 * time.Millisecond) // RSS samples while the push runs, not a wait
	defer tick.Stop()
	var res pushResult
	for done := false; !done; {
		select {
		case res = <-pushed:
			done = true
		case <-s.exited:
			t.Fatalf("camvault exited:\n%s", s.logs)
		case <-tick.C:
			maxRSS = max(maxRSS, rssBytes(t, s.cmd.Process.Pid))
		}
	}
	if res.err != nil {
		t.Fatalf("ffmpeg: %v\n%s\ncamvault:\n%s", res.err, res.out, s.logs)
	}
	if resp, err := rawRequest(s.rtsp, "OPTIONS rtsp://"+s.rtsp+"/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"); err != nil ||
		!strings.HasPrefix(resp, "RTSP/1.0 200") {
		t.Fatalf("OPTIONS after the attack: %q %v\n%s", resp, err, s.logs)
	}
	t.Logf("camvault max RSS %d MiB (bound %d MiB)", maxRSS>>20, hostileRSSBound>>20)
	if maxRSS > hostileRSSBound {
		t.Errorf("camvault RSS reached %d MiB, bound %d MiB", maxRSS>>20, hostileRSSBound>>20)
	}
	s.stop()
	checkRecording(t, s, "cam1", pushCase{video: "h264"}, res.start)
}
