package rtsp_test

import (
	"bufio"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// tunnelConfig is a server for the tunnel tests: short tunnel timeouts, so
// that the refusals that wait for them come quickly.
func tunnelConfig(h rtsp.Handler) rtsp.Config {
	return rtsp.Config{Handler: h, TunnelTimeout: 300 * time.Millisecond}
}

// openTunnel opens a tunnel's GET and POST and returns a player on it.
func openTunnel(t *testing.T, srv *rtsp.Server, cookie string) (*client, *rtsptest.Tunnel) {
	t.Helper()
	tu := rtsptest.DialTunnel(t, srv.Addr().String(), "/archive/cam1", cookie)
	if tu.Status != 200 || tu.Header.Get("Content-Type") != "application/x-rtsp-tunnelled" || tu.Header.Get("Content-Length") != "" {
		t.Fatalf("GET answered %d %v (RTSP-HT-02)", tu.Status, tu.Header)
	}
	tu.OpenPost(t, "")
	return newClient(t, tu, "rtsp://"+srv.Addr().String()), tu
}

// TestTunnelPlay plays an archive through a tunnel as ffmpeg does
// (RTSP-HT-01..06): requests in base64 on the POST, one base64 block per
// message, answers and media on the GET; an RTCP receiver report goes up
// the POST; UDP is refused with 461; TEARDOWN ends the presentation.
func TestTunnelPlay(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, tunnelConfig(h))
	c, _ := openTunnel(t, srv, "6a3c5e0f1b2d4c7a")
	base := c.URL + "/archive/cam1"
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", base, nil, ""), 200)
	c.describe(base)
	if dr := h.describeReqs()[0]; dr.Path != "archive/cam1" || !dr.Peer.Addr().IsLoopback() {
		t.Fatalf("describe request %+v", dr)
	}
	rtsptest.ExpectStatus(t, c.Do("SETUP", base+"/trackID=0", []string{"Transport: RTP/AVP;unicast;client_port=5000-5001"}, ""), 461)
	id := c.setupPlayTCP(base+"/trackID=0", base+"/trackID=1")
	resp, early := c.Request("PLAY", base+"/", []string{"Range: npt=0.000-", "Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if len(early) != 0 {
		t.Fatalf("%d frames before the PLAY response", len(early))
	}
	checkFrames(t, c.Frames(6), 3)
	c.Write(rtsptest.Frame(1, rtcpSR)) // up the POST, base64
	rtsptest.ExpectStatus(t, c.Do("GET_PARAMETER", base+"/", []string{"Session: " + id}, ""), 200)
	sessions := srv.Sessions()
	if len(sessions) != 1 || sessions[0].Transport != rtsp.TransportTCP {
		t.Fatalf("sessions %+v", sessions)
	}
	resp, _ = c.Request("TEARDOWN", base+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if reason := h.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if n := srv.Stats().TunnelsRefused; n != 0 {
		t.Fatalf("%d tunnels refused", n)
	}
}

// TestTunnelBase64Anywhere: the POST body arrives with the head, split in
// the middle of groups, with line breaks and padding between messages
// (RTSP-HT-05, App. B #22).
func TestTunnelBase64Anywhere(t *testing.T) {
	srv := startServer(t, tunnelConfig(ffmpegHandler()))
	tu := rtsptest.DialTunnel(t, srv.Addr().String(), "/archive/cam1", "split")
	url := "rtsp://" + srv.Addr().String() + "/archive/cam1"
	var body strings.Builder
	for i := 1; i <= 3; i++ {
		req := "OPTIONS " + url + " RTSP/1.0\r\nCSeq: " + string(rune('0'+i)) + "\r\n\r\n"
		enc := base64.StdEncoding.EncodeToString([]byte(req))
		body.WriteString(enc[:5] + "\r\n" + enc[5:] + " \t")
	}
	in := body.String()
	tu.OpenPost(t, in[:7]) // live555 sends the first bytes with the head
	for i := 7; i < len(in); i += 3 {
		rtsptest.WriteString(t, tu.Post, in[i:min(i+3, len(in))])
	}
	p := rtsptest.NewPlayer(t, tu, "")
	for i := 1; i <= 3; i++ {
		resp := p.Read()
		if resp.StatusCode != 200 || resp.Header.Get("CSeq") != string(rune('0'+i)) {
			t.Fatalf("answer %d: %d CSeq %q", i, resp.StatusCode, resp.Header.Get("CSeq"))
		}
	}
}

// TestTunnelRebind: a client may close its POST and open another with the
// same cookie while the GET lives (RTSP-HT-04, Apple's connection
// maintenance); the RTSP connection and its session go on.
func TestTunnelRebind(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c, tu := openTunnel(t, srv, "rebind")
	base := c.URL + "/archive/cam1"
	c.describe(base)
	id := c.setupPlayTCP(base+"/trackID=0", base+"/trackID=1")
	_ = tu.Post.Close()
	tu.OpenPost(t, "")
	rtsptest.ExpectStatus(t, c.Do("GET_PARAMETER", base+"/", []string{"Session: " + id}, ""), 200)
	resp, _ := c.Request("PLAY", base+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	checkFrames(t, c.Frames(6), 3)
}

// digestHeader answers the Digest MD5 challenge of a tunnel GET's 401 for
// method and target as user, as ffmpeg does (it knows MD5 only).
func digestHeader(t *testing.T, challenges []string, method, target, user, password string) string {
	t.Helper()
	cs, err := auth.ParseWWWAuthenticate(challenges)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs, func(c auth.Challenge) bool { return c.Algorithm == auth.AlgorithmMD5 })
	if i < 0 {
		t.Fatalf("no MD5 challenge in %q", challenges)
	}
	ch := cs[i]
	v, err := ch.Authorize(base.Method(method), target, user, password, 1, "c0ffee")
	if err != nil {
		t.Fatal(err)
	}
	return "Authorization: " + v
}

// TestTunnelAuth: credentials on the GET are checked as RTSP's are
// (RTSP-HT-07): wrong ones get 401 with the Digest challenges, right ones
// open the tunnel; the RTSP requests inside are authenticated as usual; a
// POST of another user is refused (SEC-08), an anonymous POST from the
// GET's address is taken.
func TestTunnelAuth(t *testing.T) {
	sa, err := auth.NewServer(auth.ServerConfig{Realm: rtsptest.Realm})
	if err != nil {
		t.Fatal(err)
	}
	h := &authHandler{fakeHandler: ffmpegHandler()}
	srv := startServer(t, rtsp.Config{Handler: h, TunnelTimeout: 300 * time.Millisecond,
		Access: &rtsp.Access{Auth: sa, Credentials: rtsptest.DefaultUsers}})
	addr := srv.Addr().String()
	probe := rtsptest.DialTunnel(t, addr, "/cam1", "probe", `Authorization: Digest username="viewer", realm="NVR", nonce="x", uri="/cam1", response="0"`)
	if probe.Status != 401 || len(probe.Header.Values("Www-Authenticate")) != 2 {
		t.Fatalf("wrong credentials: %d %v", probe.Status, probe.Header)
	}
	challenges := probe.Header.Values("Www-Authenticate")
	tu := rtsptest.DialTunnel(t, addr, "/cam1", "authed", digestHeader(t, challenges, "GET", "/cam1", "viewer", "secret"))
	if tu.Status != 200 {
		t.Fatalf("right credentials: %d", tu.Status)
	}
	other := rtsptest.DialTunnel(t, addr, "/cam1", "other", digestHeader(t, challenges, "GET", "/cam1", "viewer", "secret"))
	other.OpenPost(t, "", digestHeader(t, challenges, "POST", "/cam1", "md5only", "x"))
	if status, _ := rtsptest.ReadHTTPHead(t, bufio.NewReader(other.Post)); status != 403 {
		t.Fatalf("POST of another user: %d, want 403", status)
	}
	tu.OpenPost(t, "") // anonymous, from the GET's address
	c := newClient(t, tu, "rtsp://"+addr)
	resp := c.Do("ANNOUNCE", c.URL+"/cam1", []string{"Content-Type: application/sdp"}, ffmpegSDP)
	rtsptest.ExpectStatus(t, resp, 401) // the tunnel's user does not carry over to RTSP
	resp = c.Do("ANNOUNCE", c.URL+"/cam1", []string{"Content-Type: application/sdp",
		authorize(t, resp, base.MethodAnnounce, c.URL+"/cam1", "viewer", "secret")}, ffmpegSDP)
	rtsptest.ExpectStatus(t, resp, 200)
	rtsptest.WaitFor(t, "2 tunnel refusals (the wrong GET and the foreign POST)", func() bool { return srv.Stats().TunnelsRefused == 2 })
}

// TestTunnelPush: a publisher may tunnel too (ffmpeg cannot: it tunnels no
// request with a body): ANNOUNCE, SETUP with mode=record and RECORD go up
// the POST, and so do its interleaved RTP and RTCP frames, in base64.
func TestTunnelPush(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, tunnelConfig(h))
	c, _ := openTunnel(t, srv, "publisher")
	c.recordTCP("cam1")
	c.Write(rtsptest.Frame(0, rtpPacket))
	c.Write(rtsptest.Frame(1, rtcpSR))
	pkts := h.pub(0).waitPackets(t, 2)
	if pkts[0] != (packet{0, false, rtpPacket}) || pkts[1] != (packet{0, true, rtcpSR}) {
		t.Fatalf("packets %+v", pkts)
	}
}
