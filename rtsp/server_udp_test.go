package rtsp_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// udpPeer is a publisher's RTP/RTCP socket pair.
type udpPeer struct{ rtp, rtcp *net.UDPConn }

func listenUDP(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func newUDPPeer(t *testing.T) udpPeer {
	return udpPeer{rtp: listenUDP(t, "127.0.0.1"), rtcp: listenUDP(t, "127.0.0.1")}
}

func port(pc *net.UDPConn) int { return pc.LocalAddr().(*net.UDPAddr).Port }

func sendUDP(t *testing.T, pc *net.UDPConn, to net.Addr, data string) {
	t.Helper()
	if _, err := pc.WriteTo([]byte(data), to); err != nil {
		t.Fatal(err)
	}
}

// setupUDP sets up both streams of A.1 over UDP (RTSP-TR-08) and returns
// the session id; the peers are stored on the client.
func (c *client) setupUDP(t *testing.T, srv *rtsp.Server, path, mode string) string {
	t.Helper()
	peers := []udpPeer{newUDPPeer(t), newUDPPeer(t)}
	srvRTP, srvRTCP := srv.UDPAddrs()
	id := ""
	for i, p := range peers {
		hdr := []string{fmt.Sprintf("Transport: RTP/AVP/UDP;unicast;client_port=%d-%d;mode=%s", port(p.rtp), port(p.rtcp), mode)}
		if id != "" {
			hdr = append(hdr, "Session: "+id)
		}
		resp := c.Do("SETUP", fmt.Sprintf("%s/%s/streamid=%d", c.URL, path, i), hdr, "")
		rtsptest.ExpectStatus(t, resp, 200)
		want := fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;mode=record",
			port(p.rtp), port(p.rtcp), srvRTP.(*net.UDPAddr).Port, srvRTCP.(*net.UDPAddr).Port)
		if got := resp.Header.Get("Transport"); got != want {
			t.Fatalf("Transport %q\nwant %q", got, want)
		}
		id = rtsptest.SessionID(t, resp)
	}
	c.udp = peers
	return id
}

// recordUDP announces path and records it over UDP on c.
func (c *client) recordUDP(srv *rtsp.Server, path string) string {
	c.t.Helper()
	c.announce(path)
	id := c.setupUDP(c.t, srv, path, "record")
	rtsptest.ExpectStatus(c.t, c.Do("RECORD", c.URL+"/"+path, []string{"Session: " + id}, ""), 200)
	return id
}

// TestFFmpegPushUDP replays Appendix A.1 over UDP with real sockets
// (RTSP-TR-08, RTSP-M-32, SEC-06).
func TestFFmpegPushUDP(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	id := c.setupUDP(t, srv, "cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Range: npt=0.000-", "Session: " + id}, ""), 200)
	srvRTP, srvRTCP := srv.UDPAddrs()
	sendUDP(t, c.udp[0].rtp, srvRTP, rtpPacket)
	h.pub(0).waitPackets(t, 1)
	sendUDP(t, c.udp[1].rtp, srvRTP, rtpPacket+"b")
	h.pub(0).waitPackets(t, 2)
	sendUDP(t, c.udp[1].rtcp, srvRTCP, rtcpSR)
	h.pub(0).waitPackets(t, 3)
	// SEC-06: another port of the peer IP (all targets seen) and another IP are dropped.
	sendUDP(t, listenUDP(t, "127.0.0.1"), srvRTP, rtpPacket+"spoof")
	if spoof, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err == nil {
		defer spoof.Close()
		sendUDP(t, spoof, srvRTP, rtpPacket+"spoof")
	}
	sendUDP(t, c.udp[0].rtcp, srvRTCP, rtcpSR+"0")
	pkts := h.pub(0).waitPackets(t, 4)
	want := []packet{{0, false, rtpPacket}, {1, false, rtpPacket + "b"}, {1, true, rtcpSR}, {0, true, rtcpSR + "0"}}
	if fmt.Sprint(pkts) != fmt.Sprint(want) {
		t.Fatalf("packets %+v\nwant %+v", pkts, want)
	}
	rtsptest.ExpectStatus(t, c.Do("TEARDOWN", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
}

// TestUDPLatch covers RTSP-TR-11: packets from the peer IP at another port
// are latched to the only stream that has not been heard from.
func TestUDPLatch(t *testing.T) {
	h := &fakeHandler{controls: []string{"trackID=0"}}
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	rtsptest.ExpectStatus(t, c.Do("ANNOUNCE", c.URL+"/cam9", []string{"Content-Type: application/sdp"}, ffmpegSDP), 200)
	resp := c.Do("SETUP", c.URL+"/cam9/trackID=0", []string{"Transport: RTP/AVP;unicast;client_port=9-10;mode=record"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam9", []string{"Session: " + id}, ""), 200)
	natted := listenUDP(t, "127.0.0.1")
	srvRTP, _ := srv.UDPAddrs()
	sendUDP(t, natted, srvRTP, rtpPacket)
	sendUDP(t, natted, srvRTP, rtpPacket+"2")
	h.pub(0).waitPackets(t, 2)
	// Now latched: a second unknown port is dropped.
	sendUDP(t, listenUDP(t, "127.0.0.1"), srvRTP, rtpPacket+"x")
	sendUDP(t, natted, srvRTP, rtpPacket+"3")
	if pkts := h.pub(0).waitPackets(t, 3); pkts[2].data != rtpPacket+"3" {
		t.Fatalf("packet %q", pkts[2].data)
	}
}

// TestUDPMediaTimeout covers RTSP-M-33 with real sockets: a UDP recording
// without RTP ends with ErrMediaTimeout, although its connection is alive
// and RTCP keeps coming (issue 9 row 10: RTCP alone records nothing).
func TestUDPMediaTimeout(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, MediaTimeout: 100 * time.Millisecond})
	c := dial(t, srv)
	c.recordUDP(srv, "cam1")
	start := time.Now()
	_, srvRTCP := srv.UDPAddrs()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for sending := true; sending; {
		select {
		case <-h.pub(0).closed:
			sending = false
		case <-tick.C:
			sendUDP(t, c.udp[0].rtcp, srvRTCP, rtcpSR)
		}
	}
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrMediaTimeout) {
		t.Fatalf("reason %v", reason)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("closed after %v", d)
	}
	c.ExpectClosed()
}

// TestUDPRecordingEndsWithConnection covers issue 9 rows 10 and 14: a UDP
// recording ends when its control connection closes (a crashed publisher
// releases its camera at once), and the server stops taking its datagrams.
func TestUDPRecordingEndsWithConnection(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.recordUDP(srv, "cam1")
	srvRTP, _ := srv.UDPAddrs()
	sendUDP(t, c.udp[0].rtp, srvRTP, rtpPacket)
	h.pub(0).waitPackets(t, 1)
	c.Conn.Close()
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
		t.Fatalf("reason %v", reason)
	}
	before := srv.Stats().UDPDrops
	sendUDP(t, c.udp[0].rtp, srvRTP, rtpPacket)
	rtsptest.WaitFor(t, "datagram of the ended session dropped", func() bool { return srv.Stats().UDPDrops > before })
}

// TestUDPLatchCannotSteal covers issue 9 row 3: a third party on the
// publisher's host that sprays the server's port from its own ports before
// the publisher's first datagram may latch for a moment, but the announced
// port wins as soon as it sends, and the intruder is dropped from then on.
func TestUDPLatchCannotSteal(t *testing.T) {
	h := &fakeHandler{controls: []string{"trackID=0"}}
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	rtsptest.ExpectStatus(t, c.Do("ANNOUNCE", c.URL+"/cam9", []string{"Content-Type: application/sdp"}, ffmpegSDP), 200)
	real := newUDPPeer(t)
	resp := c.Do("SETUP", c.URL+"/cam9/trackID=0", []string{fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d;mode=record", port(real.rtp), port(real.rtcp))}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam9", []string{"Session: " + id}, ""), 200)
	srvRTP, _ := srv.UDPAddrs()
	intruder, other := listenUDP(t, "127.0.0.1"), listenUDP(t, "127.0.0.1")
	sendUDP(t, intruder, srvRTP, rtpPacket+"i1") // latches: nothing heard yet
	h.pub(0).waitPackets(t, 1)
	sendUDP(t, other, srvRTP, rtpPacket+"o1") // a second port: dropped
	sendUDP(t, real.rtp, srvRTP, rtpPacket+"r1")
	h.pub(0).waitPackets(t, 2)
	before := srv.Stats().UDPDrops
	sendUDP(t, intruder, srvRTP, rtpPacket+"i2")
	rtsptest.WaitFor(t, "intruder dropped", func() bool { return srv.Stats().UDPDrops >= before+1 })
	sendUDP(t, real.rtp, srvRTP, rtpPacket+"r2")
	pkts := h.pub(0).waitPackets(t, 3)
	var got []string
	for _, p := range pkts {
		got = append(got, strings.TrimPrefix(p.data, rtpPacket))
	}
	if strings.Join(got, ",") != "i1,r1,r2" {
		t.Fatalf("delivered %v, want i1,r1,r2", got)
	}
}

// TestUDPDropsLogOnce covers issue 9 row 13 for UDP: a flood of datagrams
// from unknown sources is counted and logged once a minute, not per packet.
func TestUDPDropsLogOnce(t *testing.T) {
	logger, logs := captureLogger()
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), Logger: logger})
	srvRTP, _ := srv.UDPAddrs()
	spray := listenUDP(t, "127.0.0.1")
	for range 500 {
		sendUDP(t, spray, srvRTP, rtpPacket)
	}
	rtsptest.WaitFor(t, "datagrams counted", func() bool { return srv.Stats().UDPDrops >= 100 })
	if n := strings.Count(logs.String(), "rtsp udp datagram dropped"); n != 1 {
		t.Fatalf("%d drop log lines, want 1", n)
	}
}

// TestUDPDisabled covers RTSP-TR-06: UDP refused with 461, TCP still fine.
func TestUDPDisabled(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, DisableUDP: true})
	if a, b := srv.UDPAddrs(); a != nil || b != nil {
		t.Fatal("udp addrs with udp disabled")
	}
	c := dial(t, srv)
	c.announce("cam1")
	rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/cam1/streamid=0", []string{"Transport: RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record"}, ""), 461)
	// CLI-03: ffmpeg moves on to TCP after 461.
	c.setupTCP("cam1", "record")
}

// TestUDPTeardownTakesLastDatagrams: publishers send their last datagrams
// and TEARDOWN back to back; the datagrams still queued in the socket are
// recorded before the publication closes (seen as 1-3 lost frames at the
// end of ffmpeg UDP pushes).
func TestUDPTeardownTakesLastDatagrams(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	id := c.recordUDP(srv, "cam1")
	srvRTP, _ := srv.UDPAddrs()
	const n = 200
	for i := range n {
		sendUDP(t, c.udp[0].rtp, srvRTP, fmt.Sprintf("%s%04d", rtpPacket, i))
	}
	rtsptest.ExpectStatus(t, c.Do("TEARDOWN", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if _, pkts, _, _ := h.pub(0).snapshot(); len(pkts) != n {
		t.Fatalf("%d of %d datagrams sent before TEARDOWN were delivered", len(pkts), n)
	}
}

// TestUDPTeardownWaitsForStarvedReader: a reader far behind (here held in
// another publication's RTP call, as a process short of CPU is) still
// delivers every datagram that was queued before TEARDOWN, however long
// after the linger it catches up; then the publication closes. A close after
// the linger alone lost the end of ffmpeg UDP pushes on a loaded machine.
func TestUDPTeardownWaitsForStarvedReader(t *testing.T) {
	const linger = time.Millisecond
	hold := make(chan struct{})
	h := ffmpegHandler()
	h.holdPath, h.hold = "held", hold
	srv := startServer(t, rtsp.Config{Handler: h, UDPTeardownLinger: linger})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // before the shutdown, which waits for the reader
	srvRTP, _ := srv.UDPAddrs()
	held := dial(t, srv)
	held.recordUDP(srv, "held")
	sendUDP(t, held.udp[0].rtp, srvRTP, rtpPacket)
	h.pub(0).waitPackets(t, 1) // the reader now holds in this packet's RTP call
	c := dial(t, srv)
	id := c.recordUDP(srv, "cam1")
	const n = 200
	for i := range n {
		sendUDP(t, c.udp[0].rtp, srvRTP, fmt.Sprintf("%s%04d", rtpPacket, i))
	}
	rtsptest.ExpectStatus(t, c.Do("TEARDOWN", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	// Time is what this test is about: a close on the linger alone happens
	// within this wait, which the fixed server passes however long it is.
	time.Sleep(100 * linger)
	pub := h.pub(1)
	select {
	case <-pub.closed:
		t.Fatal("the publication closed while its datagrams were still queued")
	default:
	}
	release()
	if reason := pub.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if _, pkts, _, _ := pub.snapshot(); len(pkts) != n {
		t.Fatalf("%d of %d datagrams queued before TEARDOWN were delivered", len(pkts), n)
	}
}
