package rtsp_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

func ffmpegHandler() *fakeHandler {
	return &fakeHandler{controls: []string{"streamid=0", "streamid=1"}}
}

// announce runs OPTIONS and ANNOUNCE of Appendix A.1 on path.
func (c *client) announce(path string) {
	c.t.Helper()
	resp := c.Do("OPTIONS", c.URL+"/"+path, []string{"User-Agent: Lavf61.1.100"}, "")
	rtsptest.ExpectStatus(c.t, resp, 200)
	if got := resp.Header.Get("Public"); got != "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER" {
		c.t.Fatalf("Public %q (RTSP-M-01, RTSP-M-03)", got)
	}
	resp = c.Do("ANNOUNCE", c.URL+"/"+path, []string{"Content-Type: application/sdp", "User-Agent: Lavf61.1.100"}, ffmpegSDP)
	rtsptest.ExpectStatus(c.t, resp, 200)
	if resp.Header.Has("Session") {
		c.t.Fatal("ANNOUNCE response carries Session (RTSP-M-10)")
	}
}

// setupTCP sets up the two streams of A.1 over TCP and returns the session id.
func (c *client) setupTCP(path, mode string) string {
	c.t.Helper()
	resp := c.Do("SETUP", c.URL+"/"+path+"/streamid=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=" + mode}, "")
	rtsptest.ExpectStatus(c.t, resp, 200)
	if got := resp.Header.Get("Transport"); got != "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record" {
		c.t.Fatalf("Transport %q", got)
	}
	if got := resp.Header.Get("Session"); !strings.HasSuffix(got, ";timeout=60") || len(got) != 32+len(";timeout=60") {
		c.t.Fatalf("Session %q (RTSP-SES-01/02)", got)
	}
	id := rtsptest.SessionID(c.t, resp)
	resp = c.Do("SETUP", c.URL+"/"+path+"/streamid=1", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=2-3;mode=" + mode, "Session: " + id}, "")
	rtsptest.ExpectStatus(c.t, resp, 200)
	if got := resp.Header.Get("Transport"); got != "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record" {
		c.t.Fatalf("Transport %q", got)
	}
	return id
}

// TestFFmpegPushTCP replays Appendix A.1 (CLI-07, RTSP-M-09..32, RTSP-IL-01..04).
func TestFFmpegPushTCP(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	req := h.reqs[0]
	if req.Path != "cam1" || string(req.SDP) != ffmpegSDP || req.UserAgent != "Lavf61.1.100" || !req.Peer.Addr().IsLoopback() {
		t.Fatalf("announce request %+v", req)
	}
	id := c.setupTCP("cam1", "record")
	// RTSP-IL-04: a frame before RECORD is accepted and discarded.
	c.Write(rtsptest.Frame(0, rtpPacket))
	resp := c.Do("RECORD", c.URL+"/cam1", []string{"Range: npt=0.000-", "Session: " + id}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if rtsptest.SessionID(t, resp) != id {
		t.Fatal("RECORD response without the session (RTSP-SES-03)")
	}
	// RTSP-IL-02: RTCP on the odd channel, and an SR on an RTP channel.
	c.Write(rtsptest.Frame(0, rtpPacket) + rtsptest.Frame(2, rtpPacket+"a") + rtsptest.Frame(1, rtcpSR) + rtsptest.Frame(2, rtcpSR) + rtsptest.Frame(9, rtpPacket))
	pkts := h.pub(0).waitPackets(t, 4)
	want := []packet{{0, false, rtpPacket}, {1, false, rtpPacket + "a"}, {0, true, rtcpSR}, {1, true, rtcpSR}}
	if !reflect.DeepEqual(pkts, want) {
		t.Fatalf("packets %+v\nwant %+v", pkts, want)
	}
	// RTSP-MSG-09: a request between frames.
	resp = c.Do("GET_PARAMETER", c.URL+"/cam1", []string{"Session: " + id}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	resp = c.Do("TEARDOWN", c.URL+"/cam1", []string{"Session: " + id}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if resp.Header.Has("Session") {
		t.Fatal("TEARDOWN response carries Session (RTSP-SES-03)")
	}
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("close reason %v", reason)
	}
	// RTSP-M-35: the connection stays usable.
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 454)
}

// TestPushTCPConnClose: a TCP-interleaved session dies with its connection (RTSP-SES-06).
func TestPushTCPConnClose(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	id := c.setupTCP("cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	c.Conn.Close()
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
		t.Fatalf("close reason %v", reason)
	}
}

// TestAnnouncedConnClose: an announced publication without SETUP is closed
// with its connection.
func TestAnnouncedConnClose(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	c.Conn.Close()
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
		t.Fatalf("close reason %v", reason)
	}
}

// TestServerShutdownClosesSessions: Run's shutdown ends sessions with ErrServerClosed.
func TestServerShutdownClosesSessions(t *testing.T) {
	h := ffmpegHandler()
	srv, err := rtsp.NewServer(rtsp.Config{Handler: h, Address: "127.0.0.1:0", UDPRTPAddress: "127.0.0.1:0", UDPRTCPAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(t.Context()) }()
	c := dial(t, srv)
	c.announce("cam1")
	id := c.setupUDP(t, srv, "cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrServerClosed) {
		t.Fatalf("close reason %v", reason)
	}
	if srv.Run(t.Context()) == nil {
		t.Fatal("second Run succeeded")
	}
	checkNoLeaks(t)
}

// TestGStreamerPush covers CLI-12: stream=N controls, mode=RECORD, a query
// after the path, and channels chosen by the server (RTSP-TR-12).
func TestGStreamerPush(t *testing.T) {
	h := &fakeHandler{controls: []string{"stream=0", "stream=1"}}
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	base := c.URL + "/cam2"
	rtsptest.ExpectStatus(t, c.Do("ANNOUNCE", base+"?token=x", []string{"Content-Type: application/sdp", "User-Agent: GStreamer/1.24.0"}, ffmpegSDP), 200)
	if h.reqs[0].Path != "cam2" {
		t.Fatalf("path %q", h.reqs[0].Path)
	}
	resp := c.Do("SETUP", base+"/stream=0?token=x", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=RECORD"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	// Channels 0-1 are taken: the server picks the lowest free pair.
	resp = c.Do("SETUP", base+"/stream=1?token=x", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=RECORD", "Session: " + id}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if got := resp.Header.Get("Transport"); got != "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record" {
		t.Fatalf("Transport %q", got)
	}
	rtsptest.ExpectStatus(t, c.Do("RECORD", base+"/?token=x", []string{"Session: " + id}, ""), 200)
	c.Write(rtsptest.Frame(2, rtpPacket))
	if pkts := h.pub(0).waitPackets(t, 1); pkts[0].stream != 1 {
		t.Fatalf("packet %+v", pkts[0])
	}
	// GStreamer keepalive (RTSP-M-38, A.3).
	rtsptest.ExpectStatus(t, c.Do("SET_PARAMETER", base+"/", []string{"Session: " + id}, ""), 200)
}

// TestPipelined covers RTSP-MSG-08: responses in request order.
func TestPipelined(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler()})
	c := dial(t, srv)
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		b.WriteString("OPTIONS * RTSP/1.0\r\nCSeq: " + strconv.Itoa(i) + "\r\n\r\n")
		b.WriteString("DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: " + strconv.Itoa(100+i) + "\r\n\r\n")
	}
	c.Write(b.String())
	for i := 1; i <= 5; i++ {
		if r := c.Read(); r.Header.Get("CSeq") != strconv.Itoa(i) || r.StatusCode != 200 {
			t.Fatalf("response %d: %d %s", i, r.StatusCode, r.Header.Get("CSeq"))
		}
		if r := c.Read(); r.Header.Get("CSeq") != strconv.Itoa(100+i) || r.StatusCode != 404 {
			t.Fatalf("response %d: %d %s", i, r.StatusCode, r.Header.Get("CSeq"))
		}
	}
}

// TestGarbageClosesOnlyThatConn covers RTSP-IL-01 and SEC-01: bad framing
// closes the connection, others keep working.
func TestGarbageClosesOnlyThatConn(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler()})
	good := dial(t, srv)
	rtsptest.ExpectStatus(t, good.Do("OPTIONS", "*", nil, ""), 200)
	for name, in := range map[string]string{
		"binary":           "\x00\x01\x02\x03\r\n\r\n",
		"oversized header": "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
		"too many headers": "OPTIONS * RTSP/1.0\r\n" + strings.Repeat("X: a\r\n", 100) + "\r\n",
		"body too large":   "ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 70000\r\n\r\n",
		"url too long":     "OPTIONS rtsp://h/" + strings.Repeat("a", 3000) + " RTSP/1.0\r\nCSeq: 1\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			bad := dial(t, srv)
			bad.Write(in)
			resp := bad.Read()
			if resp.StatusCode != 400 && resp.StatusCode != 413 && resp.StatusCode != 414 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			bad.ExpectClosed()
		})
	}
	rtsptest.ExpectStatus(t, good.Do("OPTIONS", "*", nil, ""), 200)
}

// TestHandlerPanic: a panic in the Handler closes only its connection.
func TestHandlerPanic(t *testing.T) {
	h := ffmpegHandler()
	h.panicOn = "boom"
	srv := startServer(t, rtsp.Config{Handler: h})
	good := dial(t, srv)
	bad := dial(t, srv)
	bad.Write("ANNOUNCE " + bad.URL + "/boom RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0")
	bad.ExpectClosed()
	good.announce("cam1")
}

// TestPauseRecord covers RTSP-M-27: PAUSE stops delivery, RECORD resumes
// it, and Publication.Record is called once.
func TestPauseRecord(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	id := c.setupTCP("cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	rtsptest.ExpectStatus(t, c.Do("PAUSE", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	c.Write(rtsptest.Frame(0, rtpPacket+"paused"))
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	c.Write("\r\n" + rtsptest.Frame(0, rtpPacket)) // a stray line end between messages is skipped
	pkts := h.pub(0).waitPackets(t, 1)
	if records, _, _, v := h.pub(0).snapshot(); records != 1 || v != "" || pkts[0].data != rtpPacket {
		t.Fatalf("records %d, %q, packets %+v", records, v, pkts)
	}
}

// TestUDPSetupConnClose covers RTSP-SES-08: a UDP session that never
// recorded ends with its connection.
func TestUDPSetupConnClose(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.announce("cam1")
	c.setupUDP(t, srv, "cam1", "record")
	c.Conn.Close()
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
		t.Fatalf("reason %v", reason)
	}
}
