//go:build interop

package interop

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
)

// hostileAllRSSBound is the most RSS camvault may reach in
// TestHostileClient: three pushes, four 40 MB same-timestamp floods on one
// connection, 2100 idle connections and the rest. The test runs a build
// without -race, whose shadow memory would multiply the heap by a varying
// factor (with -race the same run peaked between 715 and 1104 MiB).
// Measured without -race: 242 MiB after the floods (four recordings at
// their 32 MiB budget, the pooled fragment buffers and the garbage
// collector's headroom), 262 MiB at the peak. Before issue 9, two flooding
// connections alone added 940 MiB.
const hostileAllRSSBound = 512 << 20

// hostilePushSeconds is how long the honest pushes of TestHostileClient
// last: long enough for every attack, silent viewers expiring included.
const hostilePushSeconds = 40

// TestHostileClient covers issue 9: while three real ffmpeg pushes record
// (anonymous over TCP and over UDP from loopback, and one with Digest
// credentials over RTSPS), a client sends every attack of the issue in
// turn. camvault never exits, its RSS stays under hostileAllRSSBound,
// every honest recording holds all its frames and decodes cleanly, and no
// archive answer reaches an unauthenticated client.
func TestHostileClient(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	s, tlsBase := tlsServerLater(t, "  session_timeout: 5s\nplayback:\n  max_sessions: 3\n"+
		"anonymous:\n  networks: [127.0.0.0/8]\n  permissions: [{action: publish, cameras: [\"honest*\"]}]\n"+
		"cameras:\n  honest-pulled:\n    url: rtsp://127.0.0.1:9/nothing\n"+
		"auth:\n  failure_threshold: 3\n  failure_delay_min: 300ms\n"+authUsers(t))
	s.bin = camvaultPlainBinary(t)
	s.start()
	t.Cleanup(s.stop)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushStart := time.Now()
	pushes := []*exec.Cmd{
		startFFmpegPushOver(t, ctx, "rtsp://"+s.rtsp+"/honest1", "tcp", hostilePushSeconds),
		startFFmpegPushOver(t, ctx, "rtsp://"+s.rtsp+"/honest2", "udp", hostilePushSeconds),
		startFFmpegPushOver(t, ctx, withUser(tlsBase, "pub", "bup")+"/authsecure", "tcp", hostilePushSeconds),
	}
	for _, cam := range []string{"honest1", "honest2", "authsecure"} {
		s.waitLogLine(20*time.Second, `msg="recording started"`, "camera="+cam)
	}
	var maxRSS uint64
	var rssMu sync.Mutex
	rssCtx, stopRSS := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-rssCtx.Done():
				return
			case <-tick.C:
				rss := rssBytes(t, s.cmd.Process.Pid)
				rssMu.Lock()
				maxRSS = max(maxRSS, rss)
				rssMu.Unlock()
			}
		}
	})

	for _, a := range []struct {
		name string
		run  func(t *testing.T, s *server)
	}{
		{"1 hostile VPS", attackVPS},
		{"2 same-timestamp flood", attackFlood},
		{"3 UDP spray", func(t *testing.T, s *server) {
			sctx, stop := context.WithTimeout(ctx, 2*time.Second)
			defer stop()
			spray(sctx, t, s.udpPort)
		}},
		{"5 racing clock", attackRacingClock},
		{"6 anonymous archive", attackAnonymousArchive},
		{"7 squatter, 8 takeover, 9 pulled name", attackNames},
		{"10 short UDP sessions", attackShortUDPSessions},
		{"11 silent viewers", attackSilentViewers},
		{"12, 15 idle connections", attackIdle},
		{"13 tiny packets, alternating SSRC", attackTinyPackets},
		{"brute force", attackBruteForce},
	} {
		t.Run(a.name, func(t *testing.T) {
			select {
			case <-s.exited:
				t.Fatalf("camvault exited:\n%s", s.logs)
			default:
			}
			a.run(t, s)
			rssMu.Lock()
			t.Logf("camvault RSS now %d MiB, max so far %d MiB", rssBytes(t, s.cmd.Process.Pid)>>20, maxRSS>>20)
			rssMu.Unlock()
		})
	}
	for i, cmd := range pushes {
		if err := cmd.Wait(); err != nil {
			t.Errorf("honest push %d: %v", i+1, err)
		}
	}
	stopRSS()
	wg.Wait()
	t.Logf("camvault max RSS %d MiB (bound %d MiB)", maxRSS>>20, hostileAllRSSBound>>20)
	if maxRSS > hostileAllRSSBound {
		t.Errorf("camvault RSS reached %d MiB, bound %d MiB", maxRSS>>20, hostileAllRSSBound>>20)
	}
	s.stop()
	for _, cam := range []string{"honest1", "honest2", "authsecure"} {
		checkRecording(t, s, cam, pushCase{video: "h264", audio: "aac", seconds: hostilePushSeconds}, pushStart)
	}
}

// attackVPS: the ANNOUNCE of defect 1 gets an answer and kills nothing.
func attackVPS(t *testing.T, s *server) {
	resp, err := rawRequest(s.rtsp, hostileVPSAnnounce(t, s.rtsp, "honest-vps", 1))
	if err != nil || !strings.HasPrefix(resp, "RTSP/1.0 ") {
		t.Fatalf("no answer: %q %v", resp, err)
	}
}

// attackFlood: four record sessions on one connection, each sending 40 MB
// of access units that share one RTP timestamp (row 2).
func attackFlood(t *testing.T, s *server) {
	c := dialRaw(t, s.rtsp, "127.0.0.6")
	for i := range 4 {
		if st := c.recordTCP(fmt.Sprintf("honest-flood%d", i), h264SDP, 2*i); st != 200 {
			t.Fatalf("flood session %d: %d", i, st)
		}
	}
	nal := make([]byte, 1400)
	nal[0] = 0x65 // IDR slice
	var buf []byte
	for n := 0; n < 40<<20/len(nal); n++ {
		for i := range 4 {
			buf = append(buf, frame(2*i, rtpH264(uint16(n), 90000, uint32(0x1000+i), nal))...)
		}
		if len(buf) > 1<<20 {
			if _, err := c.Conn.Write(buf); err != nil {
				t.Logf("server closed the flood after %d packets per session: %v", n, err)
				return
			}
			buf = buf[:0]
		}
	}
}

// attackRacingClock: one IDR, then units each 9 s of RTP time ahead (row
// 5): the recording is ended and nothing is indexed past now + tolerance.
func attackRacingClock(t *testing.T, s *server) {
	c := dialRaw(t, s.rtsp, "127.0.0.7")
	if st := c.recordTCP("honest-race", h264SDP, 0); st != 200 {
		t.Fatalf("record: %d", st)
	}
	idr, slice := make([]byte, 200), make([]byte, 200)
	idr[0], slice[0] = 0x65, 0x41
	for i := range 400 {
		nal := slice
		if i == 0 {
			nal = idr
		}
		if _, err := c.Conn.Write(frame(0, rtpH264(uint16(i), uint32(i)*9*90000, 0x2000, nal))); err != nil {
			return // the server ended the racing recording
		}
	}
	s.waitLogLine(10*time.Second, "camera=honest-race", "err=")
}

// attackAnonymousArchive: every archive request of an anonymous client,
// for a camera that exists or not, gets the same 401 (row 6).
func attackAnonymousArchive(t *testing.T, s *server) {
	c := dialRaw(t, s.rtsp, "127.0.0.8")
	for _, path := range []string{"archive/honest1", "archive/nosuchcamera", "archive/honest1?start=0"} {
		resp := c.do("DESCRIBE", c.URL+"/"+path, []string{"Accept: application/sdp"}, "")
		if status(resp) != 401 || len(resp.Body) != 0 {
			t.Errorf("DESCRIBE %s: %d with %d body bytes, want 401 and nothing", path, status(resp), len(resp.Body))
		}
	}
	resp := c.do("SETUP", c.URL+"/archive/honest1/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
	if status(resp) != 401 {
		t.Errorf("SETUP without DESCRIBE: %d, want 401", status(resp))
	}
}

// attackNames: an ANNOUNCE that never records holds nothing (row 7),
// another publisher of a recording camera is refused (row 8), and a push
// to a pulled camera is refused (row 9).
func attackNames(t *testing.T, s *server) {
	squat := dialRaw(t, s.rtsp, "127.0.0.10")
	if st := status(squat.do("ANNOUNCE", squat.URL+"/honest-late", []string{"Content-Type: application/sdp"}, h264SDP)); st != 200 {
		t.Fatalf("squatter ANNOUNCE: %d", st)
	}
	if st := dialRaw(t, s.rtsp, "127.0.0.11").recordTCP("honest-late", h264SDP, 0); st != 200 {
		t.Errorf("publisher after a squatter's ANNOUNCE: %d, want 200", st)
	}
	if st := dialRaw(t, s.rtsp, "127.0.0.12").recordTCP("honest1", h264SDP, 0); st != 503 {
		t.Errorf("second publisher of honest1: %d, want 503", st)
	}
	if st := dialRaw(t, s.rtsp, "127.0.0.12").recordTCP("honest-pulled", h264SDP, 0); st != 403 {
		t.Errorf("push to a pulled camera: %d, want 403", st)
	}
}

// attackShortUDPSessions: UDP record sessions whose connections close at
// once end with them (row 10); 50 of them leave no session behind.
func attackShortUDPSessions(t *testing.T, s *server) {
	for i := range 50 {
		c := dialRaw(t, s.rtsp, "127.0.0.13")
		url := fmt.Sprintf("%s/honest-udp%d", c.URL, i)
		if st := status(c.do("ANNOUNCE", url, []string{"Content-Type: application/sdp"}, h264SDP)); st != 200 {
			t.Fatalf("ANNOUNCE: %d", st)
		}
		port := 30000 + 2*i
		resp := c.do("SETUP", url+"/streamid=0", []string{fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d;mode=record", port, port+1)}, "")
		if status(resp) != 200 || status(c.do("RECORD", url, []string{"Session: " + rtsptest.SessionID(t, resp)}, "")) != 200 {
			t.Fatalf("UDP session %d refused", i)
		}
		c.Conn.Close()
	}
	s.waitLogLine(10*time.Second, "camera=honest-udp49", `msg="publisher gone"`, "connection closed")
}

// attackSilentViewers: three viewers take every playback slot and go
// silent while reading; they expire after the session timeout and a
// fourth viewer plays (row 11).
func attackSilentViewers(t *testing.T, s *server) {
	var viewers []*rawConn
	for range 3 {
		v := dialRaw(t, s.rtsp, "127.0.0.14")
		v.user, v.pw = "view", "weiv"
		if st := v.play("archive/honest1"); st != 200 {
			t.Fatalf("viewer PLAY: %d", st)
		}
		go v.drain()
		viewers = append(viewers, v)
	}
	late := dialRaw(t, s.rtsp, "127.0.0.15")
	late.user, late.pw = "view", "weiv"
	if st := late.play("archive/honest1"); st != 503 {
		t.Fatalf("fourth viewer while three hold the slots: %d, want 503", st)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		again := dialRaw(t, s.rtsp, "127.0.0.15")
		again.user, again.pw = "view", "weiv"
		if st := again.play("archive/honest1"); st == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("silent viewers still hold every playback slot after 30 s")
		}
		s.waitLogLine(30*time.Second, "session timeout")
	}
}

// attackIdle: 2100 idle connections, 100 from one host and 2000 from
// another, and an honest client still gets answers (rows 12, 15).
func attackIdle(t *testing.T, s *server) {
	var conns []net.Conn
	for i := range 2100 {
		src := "127.0.0.16"
		if i >= 100 {
			src = "127.0.0.17"
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
		nc, err := d.Dial("tcp", s.rtsp)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
	}
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	c := dialRaw(t, s.rtsp, "127.0.0.18")
	if st := status(c.do("OPTIONS", "*", nil, "")); st != 200 {
		t.Fatalf("OPTIONS during the idle flood: %d", st)
	}
	if st := dialRaw(t, s.rtsp, "127.0.0.17").recordTCP("honest-idle", h264SDP, 0); st != 200 {
		t.Fatalf("publisher from the flooding host: %d", st)
	}
}

// attackTinyPackets: after a keyframe fixes the recording's source,
// 50,000 18-byte RTP packets with alternating SSRC on one recording cost a
// few log lines, not one each (row 13).
func attackTinyPackets(t *testing.T, s *server) {
	before := strings.Count(s.logs.String(), "level=WARN")
	c := dialRaw(t, s.rtsp, "127.0.0.19")
	if st := c.recordTCP("honest-tiny", h264SDP, 0); st != 200 {
		t.Fatalf("record: %d", st)
	}
	idr := make([]byte, 200)
	idr[0] = 0x65
	buf := frame(0, rtpH264(0, 0, 0x3000, idr))
	for i := range 50000 {
		buf = append(buf, frame(0, rtpH264(uint16(i+1), 0, uint32(0x3000+i%2), []byte{0x41, 0, 0, 0, 0, 0}))...)
	}
	if _, err := c.Conn.Write(buf); err != nil {
		t.Fatal(err)
	}
	if st := status(c.do("GET_PARAMETER", c.URL+"/honest-tiny", nil, "")); st == 0 {
		t.Fatalf("connection lost\n%s", s.logs)
	}
	if n := strings.Count(s.logs.String(), "level=WARN") - before; n > 10 {
		t.Errorf("%d warnings for 50000 bad packets", n)
	}
}

// attackBruteForce: wrong passwords from one host are slowed after the
// threshold and logged in summary lines, not one per attempt.
func attackBruteForce(t *testing.T, s *server) {
	c := dialRaw(t, s.rtsp, "127.0.0.20")
	c.user, c.pw = "view", "guess"
	var last time.Duration
	for range 8 {
		start := time.Now()
		if st := status(c.do("DESCRIBE", c.URL+"/archive/honest1", nil, "")); st != 401 {
			t.Fatalf("wrong password: %d", st)
		}
		last = time.Since(start)
	}
	if last < 300*time.Millisecond {
		t.Errorf("the 8th wrong password was answered after %v, want slowed", last)
	}
	if n := strings.Count(s.logs.String(), "authentication failures"); n > 3 {
		t.Errorf("%d failure log lines for 8 attempts", n)
	}
}
