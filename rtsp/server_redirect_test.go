package rtsp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// ownerURL is where the redirect tests send clients: another node.
const ownerURL = "rtsp://node2.example:8554/cam1"

// redirectHandler answers the paths of moved with their RedirectError,
// for DESCRIBE and ANNOUNCE; a presentation of "archive/playmoved"
// answers PLAY with playMoved. Other paths go to the fakeHandler.
type redirectHandler struct {
	*fakeHandler
	moved     map[string]*rtsp.RedirectError
	playMoved *rtsp.RedirectError
}

func newRedirectHandler() *redirectHandler {
	return &redirectHandler{fakeHandler: ffmpegHandler(), moved: map[string]*rtsp.RedirectError{
		"cam1":          {Location: ownerURL, Err: errors.New("owned by node2")},
		"archive/gone":  {Location: "rtsps://node3.example/archive/gone?start=1", Permanent: true},
		"archive/moved": {Location: ownerURL},
	}}
}

func (h *redirectHandler) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	if r := h.moved[req.Path]; r != nil {
		return nil, r
	}
	p, err := h.fakeHandler.Describe(ctx, req)
	if fp, ok := p.(*fakePres); ok && req.Path == "archive/playmoved" {
		fp.playErr = h.playMoved // before the server sees p
	}
	return p, err
}

func (h *redirectHandler) Announce(ctx context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	if r := h.moved[req.Path]; r != nil {
		return nil, r
	}
	return h.fakeHandler.Announce(ctx, req)
}

// expectRedirect checks a 3xx answer: status, Location, and no Session.
func expectRedirect(t *testing.T, resp *base.Response, status int, location string) {
	t.Helper()
	rtsptest.ExpectStatus(t, resp, status)
	if got := resp.Header.Get("Location"); got != location {
		t.Fatalf("Location %q, want %q", got, location)
	}
	if resp.Header.Has("Session") {
		t.Fatal("redirect carries Session")
	}
}

// TestRedirectAnswers covers 301/302 with Location (RTSP-M-08) on
// DESCRIBE, ANNOUNCE, SETUP without DESCRIBE and PLAY; the session of a
// redirected PLAY waits for the client's TEARDOWN (GStreamer sends one,
// and fails on a 454), then, on another connection that sends none, ends
// with ErrRedirected after RedirectGrace.
func TestRedirectAnswers(t *testing.T) {
	h := newRedirectHandler()
	h.playMoved = &rtsp.RedirectError{Location: ownerURL + "?node=2"}
	srv := startServer(t, rtsp.Config{Handler: h, RedirectGrace: 200 * time.Millisecond})
	c := dial(t, srv)
	// userinfo in the request never reaches Location (RTSP-MSG-10)
	userURL := "rtsp://user:pw@" + srv.Addr().String()

	expectRedirect(t, c.Do("DESCRIBE", userURL+"/cam1", []string{"Accept: application/sdp"}, ""), 302, ownerURL)
	expectRedirect(t, c.Do("DESCRIBE", c.URL+"/archive/gone", nil, ""), 301, "rtsps://node3.example/archive/gone?start=1")
	expectRedirect(t, c.Do("ANNOUNCE", c.URL+"/cam1", []string{"Content-Type: application/sdp"}, ffmpegSDP), 302, ownerURL)
	expectRedirect(t, c.Do("SETUP", c.URL+"/archive/moved/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, ""), 302, ownerURL)

	u := c.URL + "/archive/playmoved"
	c.describe(u)
	id := c.setupPlayTCP(u+"/trackID=0", u+"/trackID=1")
	expectRedirect(t, c.Do("PLAY", u+"/", []string{"Session: " + id}, ""), 302, ownerURL+"?node=2")
	rtsptest.ExpectStatus(t, c.Do("TEARDOWN", u+"/", []string{"Session: " + id}, ""), 200)
	if reason := h.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("presentation closed with %v, want ErrTeardown", reason)
	}
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200) // the connection lives on

	other := dial(t, srv)
	other.describe(u)
	id = other.setupPlayTCP(u+"/trackID=0", u+"/trackID=1")
	expectRedirect(t, other.Do("PLAY", u+"/", []string{"Session: " + id}, ""), 302, ownerURL+"?node=2")
	if reason := h.presentation(t, 1).waitClosed(t); !errors.Is(reason, rtsp.ErrRedirected) {
		t.Fatalf("presentation closed with %v, want ErrRedirected", reason)
	}
	other.ExpectClosed()
	if st := srv.Stats(); st.Redirects != 6 || st.SessionsPlay != 0 {
		t.Fatalf("stats %+v, want 6 redirects and no session", st)
	}
}

// TestRedirectBadLocation: a Location that is not an absolute rtsp or
// rtsps URL with a host, or carries userinfo, a fragment, a bad port,
// control characters or too many bytes is never sent: 500 instead.
func TestRedirectBadLocation(t *testing.T) {
	bad := []string{
		"", "/cam1", "cam1", "http://node2/cam1", "rtsp:cam1", "rtsp:///cam1", "rtsp://user:pw@node2/cam1",
		"rtsp://node2/cam1#x", "rtsp://node2:99999/cam1", "rtsp://node2:0/cam1", "rtsp://node2/cam1\r\nX-Evil: 1",
		"rtsp://node2/a b", "rtsp://node2/" + strings.Repeat("a", base.DefaultMaxURL), "rtsp://node2/caf\u00e9",
	}
	h := newRedirectHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	for _, loc := range bad {
		h.moved["cam1"] = &rtsp.RedirectError{Location: loc}
		resp := c.Do("DESCRIBE", c.URL+"/cam1", nil, "")
		rtsptest.ExpectStatus(t, resp, 500)
		if resp.Header.Has("Location") || resp.Header.Has("X-Evil") {
			t.Fatalf("location %q: answer has %v", loc, resp.Header)
		}
	}
	if n := srv.Stats().Redirects; n != 0 {
		t.Fatalf("%d redirects counted", n)
	}
}

// ownerHandler redirects DESCRIBE of cam1 for authenticated users only,
// as a Handler that checks rights first must (DESIGN: no answer reveals a
// camera before the rights are checked).
type ownerHandler struct{ *redirectHandler }

func (h ownerHandler) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	if req.User != "viewer" {
		return nil, &base.Error{Status: base.StatusUnauthorized, Reason: "authentication required"}
	}
	return h.redirectHandler.Describe(ctx, req)
}

// TestRedirectAfterAuth: bad credentials get 401 before the Handler is
// asked, so no Location leaks; an anonymous request gets the Handler's
// 401 with challenges; the right credentials get the 302.
func TestRedirectAfterAuth(t *testing.T) {
	sa, err := auth.NewServer(auth.ServerConfig{Realm: rtsptest.Realm, NonceLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := ownerHandler{newRedirectHandler()}
	srv := startServer(t, rtsp.Config{Handler: h, Access: &rtsp.Access{Auth: sa, Credentials: rtsptest.DefaultUsers}})
	c := dial(t, srv)
	u := c.URL + "/cam1"
	denied := c.Do("DESCRIBE", u, nil, "")
	rtsptest.ExpectStatus(t, denied, 401)
	if denied.Header.Has("Location") || len(denied.Header.Values("WWW-Authenticate")) == 0 {
		t.Fatalf("anonymous answer %v", denied.Header)
	}
	wrong := c.Do("DESCRIBE", u, []string{authorize(t, denied, base.MethodDescribe, u, "viewer", "wrong")}, "")
	rtsptest.ExpectStatus(t, wrong, 401)
	if wrong.Header.Has("Location") {
		t.Fatal("a wrong password got a Location")
	}
	if n := len(h.describeReqs()); n != 0 {
		t.Fatalf("handler asked %d times before any good credentials", n)
	}
	good := authorize(t, denied, base.MethodDescribe, u, "viewer", "secret")
	expectRedirect(t, c.Do("DESCRIBE", u, []string{good}, ""), 302, ownerURL)
}

// readServerRequest reads the interleaved frames the server sends before
// a request of its own, and that request.
func (c *client) readServerRequest() *base.Request {
	c.t.Helper()
	for {
		_ = c.Conn.SetReadDeadline(time.Now().Add(rtsptest.Timeout))
		b, err := c.Reader.Peek(1)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if b[0] == base.InterleavedMagic {
			c.Next()
			continue
		}
		var req base.Request
		if err := req.Unmarshal(c.Reader, base.Limits{}); err != nil {
			c.t.Fatalf("read server request: %v", err)
		}
		return &req
	}
}

// playArchive describes, sets up and plays archive/cam1 over TCP and
// returns the presentation URL and the session id.
func (c *client) playArchive(url string) string {
	c.t.Helper()
	c.describe(url)
	id := c.setupPlayTCP(url+"/trackID=0", url+"/trackID=1")
	resp, _ := c.Request("PLAY", url+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(c.t, resp, 200)
	return id
}

// expectRedirectRequest checks a server REDIRECT (RTSP-M-39): request
// URL without userinfo, the connection's own CSeq, Session, Location and
// Range.
func expectRedirectRequest(t *testing.T, req *base.Request, url, cseq, id, rng string) {
	t.Helper()
	if req.Method != base.MethodRedirect || req.URL != url {
		t.Fatalf("server sent %s %s, want REDIRECT %s", req.Method, req.URL, url)
	}
	h := req.Header
	if h.Get("CSeq") != cseq || h.Get("Session") != id || h.Get("Location") != ownerURL || h.Get("Range") != rng {
		t.Fatalf("REDIRECT header %v", h)
	}
}

// TestRedirectRequest: a Presentation sends its client elsewhere
// (RTSP-M-39); the client answers (the answer is read, not counted as
// unexpected) and tears down; a stray response is counted and ignored.
func TestRedirectRequest(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	u := c.URL + "/archive/cam1"
	id := c.playArchive("rtsp://user:pw@" + strings.TrimPrefix(u, "rtsp://"))
	pres := h.presentation(t, 0)
	r := pres.lastPlay(t).Redirect
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if err := r.Redirect(ownerURL, &headers.Range{Unit: headers.RangeClock, Start: &headers.RangePoint{Clock: at}}); err != nil {
		t.Fatal(err)
	}
	expectRedirectRequest(t, c.readServerRequest(), u, "1", id, "clock=20261207T100000Z-")
	if err := r.Redirect(ownerURL, nil); err == nil {
		t.Fatal("second redirect of one session accepted")
	}
	c.Write("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
	c.Write("RTSP/1.0 200 OK\r\nCSeq: 77\r\n\r\n") // answers nothing
	resp, _ := c.Request("TEARDOWN", u+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if reason := pres.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if err := r.Redirect(ownerURL, nil); !errors.Is(err, rtsp.ErrSessionClosed) {
		t.Fatalf("redirect after close: %v", err)
	}
	if st := srv.Stats(); st.RedirectRequests != 1 || st.UnexpectedResponses != 1 {
		t.Fatalf("stats %+v, want 1 request and 1 unexpected response", st)
	}
}

// TestRedirectRequestBadLocation: Redirect refuses what a RedirectError
// may not carry, and sends nothing.
func TestRedirectRequestBadLocation(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.playArchive(c.URL + "/archive/cam1")
	r := h.presentation(t, 0).lastPlay(t).Redirect
	for _, loc := range []string{"", "http://node2/cam1", "rtsp://u:p@node2/cam1", "rtsp://node2/x\r\nA: b", "/cam1"} {
		if err := r.Redirect(loc, nil); !errors.Is(err, rtsp.ErrBadLocation) {
			t.Fatalf("location %q: %v", loc, err)
		}
	}
	if err := r.Redirect(ownerURL, &headers.Range{}); err == nil || errors.Is(err, rtsp.ErrBadLocation) {
		t.Fatalf("empty range: %v", err)
	}
	if n := srv.Stats().RedirectRequests; n != 0 {
		t.Fatalf("%d redirect requests sent", n)
	}
}

// TestRedirectGrace: a client that ignores REDIRECT (it answers 501
// without CSeq, as ffmpeg does) has its session ended with ErrRedirected
// after RedirectGrace, and its connection closed.
func TestRedirectGrace(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, RedirectGrace: 200 * time.Millisecond})
	c := dial(t, srv)
	c.playArchive(c.URL + "/archive/cam1")
	pres := h.presentation(t, 0)
	start := time.Now()
	if err := pres.lastPlay(t).Redirect.Redirect(ownerURL, nil); err != nil {
		t.Fatal(err)
	}
	if req := c.readServerRequest(); req.Method != base.MethodRedirect {
		t.Fatalf("server sent %s", req.Method)
	}
	c.Write("RTSP/1.0 501 Not Implemented\r\n\r\n")
	if reason := pres.waitClosed(t); !errors.Is(reason, rtsp.ErrRedirected) {
		t.Fatalf("reason %v, want ErrRedirected", reason)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("session ended %v after the redirect, before the grace", d)
	}
	for { // the frames still queued, then EOF
		_ = c.Conn.SetReadDeadline(time.Now().Add(rtsptest.Timeout))
		if b, err := c.Reader.Peek(1); err != nil || b[0] != base.InterleavedMagic {
			break
		}
		c.Next()
	}
	c.ExpectClosed()
	if n := srv.Stats().UnexpectedResponses; n != 0 {
		t.Fatalf("the 501 counted as unexpected (%d)", n)
	}
}

// TestRedirectRequestTunnel: REDIRECT goes down a tunnel's GET and the
// answer and TEARDOWN come up its POST in base64 (RTSP-HT-03).
func TestRedirectRequestTunnel(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, tunnelConfig(h))
	c, _ := openTunnel(t, srv, "0d7b1e5a9c3f2a64")
	followRedirectRequest(t, srv, h, c)
	if n := srv.Stats().TunnelsRefused; n != 0 {
		t.Fatalf("%d tunnels refused", n)
	}
}

// TestRedirectRequestWebSocket: REDIRECT goes down the byte stream of a
// WebSocket that the HTTP API handed over (ServeConn, ConnOptions.WebSocket)
// like any response, and the client's answer comes back up it.
func TestRedirectRequestWebSocket(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	nc, accepted := connPair(t)
	if err := srv.ServeConn(accepted, rtsp.ConnOptions{WebSocket: true}); err != nil {
		t.Fatal(err)
	}
	followRedirectRequest(t, srv, h, newClient(t, nc, "rtsp://"+srv.Addr().String()))
}

// followRedirectRequest plays archive/cam1 on c, has the presentation
// send REDIRECT, checks it, answers it and tears down as a client that
// follows does.
func followRedirectRequest(t *testing.T, srv *rtsp.Server, h *fakeHandler, c *client) {
	t.Helper()
	u := c.URL + "/archive/cam1"
	id := c.playArchive(u)
	pres := h.presentation(t, 0)
	if err := pres.lastPlay(t).Redirect.Redirect(ownerURL, nil); err != nil {
		t.Fatal(err)
	}
	expectRedirectRequest(t, c.readServerRequest(), u, "1", id, "")
	c.Write("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
	resp, _ := c.Request("TEARDOWN", u+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if reason := pres.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if st := srv.Stats(); st.RedirectRequests != 1 || st.UnexpectedResponses != 0 {
		t.Fatalf("stats %+v", st)
	}
}
