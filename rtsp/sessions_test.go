package rtsp_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// localAddr is the address the server sees for c.
func (c *client) localAddr() netip.AddrPort {
	return netip.MustParseAddrPort(c.Conn.LocalAddr().String())
}

// sessionAt returns the listed session of path, failing the test if it is
// missing.
func sessionAt(t *testing.T, srv *rtsp.Server, path string) rtsp.SessionInfo {
	t.Helper()
	for _, si := range srv.Sessions() {
		if si.Path == path {
			return si
		}
	}
	t.Fatalf("no session of %q in %+v", path, srv.Sessions())
	return rtsp.SessionInfo{}
}

// recordAuthorized announces path as user "viewer" (Digest) and records it
// over TCP; it returns the RTSP session id.
func (c *client) recordAuthorized(path string) string {
	c.t.Helper()
	announce := func(hdr ...string) *base.Response {
		return c.Do("ANNOUNCE", c.URL+"/"+path, append([]string{"Content-Type: application/sdp"}, hdr...), ffmpegSDP)
	}
	denied := announce()
	rtsptest.ExpectStatus(c.t, denied, 401)
	rtsptest.ExpectStatus(c.t, announce(authorize(c.t, denied, base.MethodAnnounce, c.URL+"/"+path, "viewer", "secret")), 200)
	id := c.setupTCP(path, "record")
	rtsptest.ExpectStatus(c.t, c.Do("RECORD", c.URL+"/"+path, []string{"Session: " + id}, ""), 200)
	return id
}

// playTCP describes, sets up and plays archive/cam1 over TCP and reads the
// six frames of the burst; it returns the RTSP session id.
func (c *client) playTCP(path string) string {
	c.t.Helper()
	u := c.URL + "/" + path
	c.describe(u)
	id := c.setupPlayTCP(u+"/trackID=0", u+"/trackID=1")
	resp, _ := c.Request("PLAY", u+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(c.t, resp, 200)
	c.Frames(6)
	return id
}

// TestSessionsAndKick: an authenticated publisher and an anonymous viewer
// are listed with their mode, path, peer, user, transport and growing byte
// counts, without their RTSP Session ids; Stats counts them; Kick ends
// each like a TEARDOWN (the publication or presentation is closed with
// ErrKicked) and closes its connection, logging one line each; an unknown
// or spent id is ErrSessionNotFound.
func TestSessionsAndKick(t *testing.T) {
	sa, err := auth.NewServer(auth.ServerConfig{Realm: rtsptest.Realm})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := captureLogger()
	h := &authHandler{fakeHandler: ffmpegHandler()}
	srv := startServer(t, rtsp.Config{Handler: h, Logger: logger, Access: &rtsp.Access{Auth: sa, Credentials: rtsptest.DefaultUsers}})

	pc := dial(t, srv)
	pubID := pc.recordAuthorized("cam1")
	pc.Write(rtsptest.Frame(0, rtpPacket) + rtsptest.Frame(1, rtcpSR))
	h.pub(0).waitPackets(t, 2)
	vc := dial(t, srv)
	playID := vc.playTCP("archive/cam1")

	list := srv.Sessions()
	if len(list) != 2 || list[0].Path != "cam1" || list[1].Path != "archive/cam1" || list[1].Started.Before(list[0].Started) {
		t.Fatalf("sessions %+v", list)
	}
	pub, view := list[0], list[1]
	want := rtsp.SessionInfo{ID: pub.ID, Mode: rtsp.ModeRecord, Path: "cam1", Peer: pc.localAddr(), User: "viewer",
		Transport: rtsp.TransportTCP, Started: pub.Started, Playing: true, BytesIn: uint64(len(rtpPacket) + len(rtcpSR))}
	if pub != want {
		t.Fatalf("publisher %+v\nwant      %+v", pub, want)
	}
	if view.Mode != rtsp.ModePlay || view.Peer != vc.localAddr() || view.User != "" || view.Transport != rtsp.TransportTCP ||
		view.TLS || !view.Playing || view.BytesIn != 0 {
		t.Fatalf("viewer %+v", view)
	}
	rtsptest.WaitFor(t, "six frames counted", func() bool { return sessionAt(t, srv, "archive/cam1").BytesOut == 6*1400 })
	if pub.ID == "" || pub.ID == view.ID || pub.ID == pubID || view.ID == playID {
		t.Fatalf("ids %q %q: empty, shared or a Session header", pub.ID, view.ID)
	}

	pc.Write(rtsptest.Frame(0, rtpPacket))
	vc.Write(rtsptest.Frame(1, rtcpSR)) // a receiver report
	rtsptest.WaitFor(t, "bytes in grow", func() bool {
		return sessionAt(t, srv, "cam1").BytesIn == uint64(2*len(rtpPacket)+len(rtcpSR)) &&
			sessionAt(t, srv, "archive/cam1").BytesIn == uint64(len(rtcpSR))
	})
	resp, _ := vc.Request("PAUSE", vc.URL+"/archive/cam1/", []string{"Session: " + playID})
	rtsptest.ExpectStatus(t, resp, 200)
	if sessionAt(t, srv, "archive/cam1").Playing {
		t.Fatal("paused session listed as playing")
	}
	if st := srv.Stats(); st.Connections != 2 || st.TLSConnections != 0 || st.SessionsRecord != 1 || st.SessionsPlay != 1 {
		t.Fatalf("stats %+v", st)
	}

	for _, id := range []string{"", "x", "999999", pubID, playID} {
		if err := srv.Kick(id); !errors.Is(err, rtsp.ErrSessionNotFound) {
			t.Fatalf("Kick(%q) = %v, want ErrSessionNotFound", id, err)
		}
	}
	if err := srv.Kick(pub.ID); err != nil {
		t.Fatal(err)
	}
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrKicked) {
		t.Fatalf("publication closed with %v", reason)
	}
	pc.ExpectClosed()
	if err := srv.Kick(view.ID); err != nil {
		t.Fatal(err)
	}
	if reason := h.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrKicked) {
		t.Fatalf("presentation closed with %v", reason)
	}
	vc.ExpectClosed()
	if err := srv.Kick(pub.ID); !errors.Is(err, rtsp.ErrSessionNotFound) {
		t.Fatalf("second Kick = %v", err)
	}
	if l := srv.Sessions(); len(l) != 0 {
		t.Fatalf("sessions after kicks: %+v", l)
	}
	rtsptest.WaitFor(t, "connections closed", func() bool { return srv.Stats() == rtsp.Stats{} })
	if n := strings.Count(logs.String(), `msg="session kicked"`); n != 2 {
		t.Fatalf("%d kick log lines, want 2:\n%s", n, logs.String())
	}
}

// TestSessionsTransportAndTLS: an RTSPS publisher is listed with TLS and
// counted in TLSConnections; a UDP publisher is listed with TransportUDP,
// counts its datagrams, and Kick closes its connection too.
func TestSessionsTransportAndTLS(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, TLS: tlsConfig(t), TLSAddress: "127.0.0.1:0"})
	tc, err := dialTLS(t, srv, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	tc.announce("secure")
	tc.setupTCP("secure", "record")
	uc := dial(t, srv)
	uc.recordUDP(srv, "plain")
	srvRTP, _ := srv.UDPAddrs()
	sendUDP(t, uc.udp[0].rtp, srvRTP, rtpPacket)

	if si := sessionAt(t, srv, "secure"); !si.TLS || si.Transport != rtsp.TransportTCP || si.Playing {
		t.Fatalf("RTSPS session %+v", si)
	}
	rtsptest.WaitFor(t, "datagram counted", func() bool { return sessionAt(t, srv, "plain").BytesIn == uint64(len(rtpPacket)) })
	si := sessionAt(t, srv, "plain")
	if si.TLS || si.Transport != rtsp.TransportUDP || !si.Playing || si.Peer != uc.localAddr() {
		t.Fatalf("UDP session %+v", si)
	}
	if st := srv.Stats(); st.Connections != 2 || st.TLSConnections != 1 || st.SessionsRecord != 2 || st.SessionsPlay != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := srv.Kick(si.ID); err != nil {
		t.Fatal(err)
	}
	if reason := h.pub(1).waitClosed(t); !errors.Is(reason, rtsp.ErrKicked) {
		t.Fatalf("UDP publication closed with %v", reason)
	}
	uc.ExpectClosed()
	rtsptest.ExpectStatus(t, tc.Do("OPTIONS", "*", nil, ""), 200)
}

// TestKickKeepsSharedConnection: a connection that carries another live
// session stays open when one of its sessions is kicked, and closes with
// the last one.
func TestKickKeepsSharedConnection(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	var ids []string
	for i, path := range []string{"archive/single", "archive/other"} {
		u := c.URL + "/" + path
		hdr := []string{"Transport: RTP/AVP/TCP;unicast;interleaved=" + []string{"0-1", "2-3"}[i]}
		resp := c.Do("SETUP", u+"/trackID=0", hdr, "")
		rtsptest.ExpectStatus(t, resp, 200)
		ids = append(ids, rtsptest.SessionID(t, resp))
	}
	list := srv.Sessions()
	if len(list) != 2 {
		t.Fatalf("sessions %+v", list)
	}
	if err := srv.Kick(list[0].ID); err != nil {
		t.Fatal(err)
	}
	h.presentation(t, 0).waitClosed(t)
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", []string{"Session: " + ids[1]}, ""), 200)
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", []string{"Session: " + ids[0]}, ""), 454)
	if err := srv.Kick(list[1].ID); err != nil {
		t.Fatal(err)
	}
	c.ExpectClosed()
}

// playStarts records the calls of Config.OnPlayStart.
type playStarts struct {
	mu    sync.Mutex
	paths []string
	durs  []time.Duration
}

func (p *playStarts) add(path string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, path)
	p.durs = append(p.durs, d)
}

func (p *playStarts) get() ([]string, []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...), append([]time.Duration(nil), p.durs...)
}

// TestOnPlayStart: OnPlayStart is called once per PLAY, for the first of
// the packets of its answer, with the path and a positive latency; RTCP
// and later packets do not call it, nor does a PLAY refused.
func TestOnPlayStart(t *testing.T) {
	var starts playStarts
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, OnPlayStart: starts.add})
	c := dial(t, srv)
	id := c.playTCP("archive/cam1") // every packet of the burst is read
	u := c.URL + "/archive/cam1/"
	if err := h.presentation(t, 0).lastPlay(t).Out.WriteRTCP(0, []byte(rtcpSR)); err != nil {
		t.Fatal(err)
	}
	c.Frames(1)
	resp, _ := c.Request("PAUSE", u, []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	resp, _ = c.Request("PLAY", u, []string{"Session: " + id, "Range: npt=10-"})
	rtsptest.ExpectStatus(t, resp, 200)
	c.Frames(6)
	paths, durs := starts.get()
	if len(paths) != 2 || paths[0] != "archive/cam1" || paths[1] != "archive/cam1" {
		t.Fatalf("OnPlayStart calls %q, want two for archive/cam1", paths)
	}
	for _, d := range durs {
		if d <= 0 || d > rtsptest.Timeout {
			t.Fatalf("latencies %v", durs)
		}
	}

	g := dial(t, srv)
	gap := g.URL + "/archive/gap"
	g.describe(gap)
	gid := g.setupPlayTCP(gap+"/trackID=0", gap+"/trackID=1")
	resp, _ = g.Request("PLAY", gap+"/", []string{"Session: " + gid})
	rtsptest.ExpectStatus(t, resp, 457)
	if paths, _ := starts.get(); len(paths) != 2 {
		t.Fatalf("refused PLAY reported: %q", paths)
	}
}

// TestOnPlayStartUDP: over UDP the first datagram of a PLAY's answer
// reports once, and the viewer's BytesOut counts what was sent.
func TestOnPlayStartUDP(t *testing.T) {
	var starts playStarts
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), OnPlayStart: starts.add})
	c := dial(t, srv)
	u := c.URL + "/archive/cam1"
	c.describe(u)
	peers := []udpPeer{newUDPPeer(t), newUDPPeer(t)}
	id := ""
	for i, p := range peers {
		hdr := []string{fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", port(p.rtp), port(p.rtcp))}
		if id != "" {
			hdr = append(hdr, "Session: "+id)
		}
		resp := c.Do("SETUP", fmt.Sprintf("%s/trackID=%d", u, i), hdr, "")
		rtsptest.ExpectStatus(t, resp, 200)
		id = rtsptest.SessionID(t, resp)
	}
	rtsptest.ExpectStatus(t, c.Do("PLAY", u+"/", []string{"Session: " + id}, ""), 200)
	for _, p := range peers {
		for range 3 {
			readUDP(t, p.rtp)
		}
	}
	if paths, durs := starts.get(); len(paths) != 1 || paths[0] != "archive/cam1" || durs[0] <= 0 {
		t.Fatalf("OnPlayStart calls %q %v, want one", paths, durs)
	}
	rtsptest.WaitFor(t, "six datagrams counted", func() bool { return sessionAt(t, srv, "archive/cam1").BytesOut == 6*1400 })
	if si := sessionAt(t, srv, "archive/cam1"); si.Transport != rtsp.TransportUDP || !si.Playing {
		t.Fatalf("UDP viewer %+v", si)
	}
}

// TestKickUnderLoad: Kick ends a publisher that is sending as fast as it
// can and a viewer whose sender floods a connection it does not read (up
// to a full media queue), without a packet delivered after Close (fakePub
// checks it) and without waiting for either peer.
func TestKickUnderLoad(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, MediaQueueSize: 4})
	pc := dial(t, srv)
	pc.announce("cam1")
	id := pc.setupTCP("cam1", "record")
	rtsptest.ExpectStatus(t, pc.Do("RECORD", pc.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	flood := strings.Repeat(rtsptest.Frame(0, rtpPacket), 64)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := pc.Conn.Write([]byte(flood)); err != nil {
				done <- err
				return
			}
		}
	}()
	h.pub(0).waitPackets(t, 100)

	vc := dial(t, srv)
	u := vc.URL + "/archive/flood"
	vc.describe(u)
	vid := vc.setupPlayTCP(u+"/trackID=0", u+"/trackID=1")
	vc.Write("PLAY " + u + "/ RTSP/1.0\r\nCSeq: 99\r\nSession: " + vid + "\r\n\r\n") // the answer is never read
	rtsptest.WaitFor(t, "viewer playing", func() bool { return sessionAt(t, srv, "archive/flood").Playing })

	for _, si := range srv.Sessions() {
		if err := srv.Kick(si.ID); err != nil {
			t.Fatal(err)
		}
	}
	if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrKicked) {
		t.Fatalf("publication closed with %v", reason)
	}
	if reason := h.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrKicked) {
		t.Fatalf("presentation closed with %v", reason)
	}
	rtsptest.Receive(t, "publisher's writes fail", done)
	_ = vc.Conn.SetReadDeadline(time.Now().Add(rtsptest.Timeout))
	if _, err := io.Copy(io.Discard, vc.Reader); err != nil { // what was queued, then EOF
		t.Fatalf("viewer connection not closed: %v", err)
	}
}
