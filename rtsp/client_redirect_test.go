package rtsp_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// redirectAt plays the camera's part of a handshake under baseURL until
// the request with method m, which it answers status with Location loc;
// then it waits for the client to hang up.
func redirectAt(cc *rtsptest.CameraConn, baseURL string, m base.Method, status int, loc string) error {
	for {
		req, err := cc.Read()
		if err != nil {
			return fmt.Errorf("before %s: %w", m, err)
		}
		if req.Method == m {
			if err := cc.Reply(req, status, "", "Location", loc); err != nil {
				return err
			}
			_, _ = cc.Read() // until the client hangs up
			return nil
		}
		if err := answerHandshake(cc, req, baseURL); err != nil {
			return err
		}
	}
}

// answerHandshake answers one handshake request as playHandshake does.
func answerHandshake(cc *rtsptest.CameraConn, req *base.Request, baseURL string) error {
	switch req.Method {
	case base.MethodOptions:
		return cc.Reply(req, 200, "", "Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
	case base.MethodDescribe:
		return cc.Reply(req, 200, fmt.Sprintf(camSDP, baseURL), "Content-Type", "application/sdp", "Content-Base", baseURL+"/")
	case base.MethodSetup:
		return cc.Reply(req, 200, "", "Session", rtsptest.CameraSession, "Transport", req.Header.Get("Transport"))
	}
	return cc.Reply(req, 200, "", "Session", rtsptest.CameraSession)
}

// redirectConfig is fastConfig without keepalives or receiver reports
// in the way of the scripted answers to REDIRECT.
func redirectConfig(url string) rtsp.ClientConfig {
	cfg := fastConfig(url)
	cfg.KeepaliveInterval, cfg.ReceiverReportInterval = time.Minute, time.Minute
	return cfg
}

// TestClientFollowsRedirects: a 301 or 302 answer to any request of the
// handshake starts it again at Location (CLI-20), on a new connection.
func TestClientFollowsRedirects(t *testing.T) {
	for _, m := range []base.Method{base.MethodOptions, base.MethodDescribe, base.MethodSetup, base.MethodPlay} {
		for _, status := range []int{301, 302} {
			t.Run(fmt.Sprintf("%s %d", m, status), func(t *testing.T) {
				first, second := rtsptest.NewCamera(t), rtsptest.NewCamera(t)
				first.Serve(func(cc *rtsptest.CameraConn) error {
					return redirectAt(cc, first.URL, m, status, second.URL)
				})
				second.Serve(func(cc *rtsptest.CameraConn) error {
					if _, err := playHandshake(cc, second.URL); err != nil {
						return err
					}
					return untilTeardown(cc)
				})
				c, err := rtsp.Dial(t.Context(), fastConfig(first.URL))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(c.SDP()), second.URL) {
					t.Errorf("SDP %q is not the second camera's", c.SDP())
				}
				closeAndWait(t, c, first, second)
			})
		}
	}
}

// TestClientRedirectLimits: a redirect loop ends after MaxRedirects
// hops with ErrTooManyRedirects (a negative limit follows none); a
// Location that is missing, relative to nothing usable, or of another
// scheme than rtsp fails with ErrBadRedirect and is not dialled.
func TestClientRedirectLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int
		location string // "" : the camera's own URL (a loop)
		conns    int
		want     error
	}{
		{"loop", 2, "", 3, rtsp.ErrTooManyRedirects},
		{"default limit", 0, "", rtsp.DefaultClientMaxRedirects + 1, rtsp.ErrTooManyRedirects},
		{"none followed", -1, "", 1, rtsp.ErrTooManyRedirects},
		{"http", 0, "http://127.0.0.1/cam1", 1, rtsp.ErrBadRedirect},
		{"rtsps", 0, "rtsps://127.0.0.1/cam1", 1, rtsp.ErrBadRedirect},
		{"no host", 0, "rtsp:///cam1", 1, rtsp.ErrBadRedirect},
		{"empty", 0, " ", 1, rtsp.ErrBadRedirect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cam := rtsptest.NewCamera(t)
			loc := cmpOr(tc.location, cam.URL)
			var conns atomic.Int32 // counted before the answer that Dial waits for
			cam.Serve(func(cc *rtsptest.CameraConn) error {
				conns.Add(1)
				return redirectAt(cc, cam.URL, base.MethodDescribe, 302, loc)
			})
			cfg := fastConfig(cam.URL)
			cfg.MaxRedirects = tc.max
			_, err := rtsp.Dial(t.Context(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial: %v, want %v", err, tc.want)
			}
			if n := int(conns.Load()); n != tc.conns {
				t.Fatalf("%d connections, want %d", n, tc.conns)
			}
			for range tc.conns {
				cam.Wait(t)
			}
			checkNoLeaks(t)
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// challengeThenPlay answers OPTIONS with a Digest challenge, checks the
// answer, then plays (playHandshake's answers) until TEARDOWN. Without
// credentials in the second OPTIONS it reports that and waits for the
// client to hang up.
func challengeThenPlay(cc *rtsptest.CameraConn, baseURL string, gotAuth chan<- bool) error {
	req, err := cc.Expect(base.MethodOptions)
	if err != nil {
		return err
	}
	if req.Header.Has("Authorization") {
		return errors.New("credentials before the challenge")
	}
	if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Digest realm="cam", nonce="n9", qop="auth"`); err != nil {
		return err
	}
	req, err = cc.Read()
	if err != nil {
		gotAuth <- false
		return nil // the client gave up: it has no credentials for this host
	}
	gotAuth <- true
	if err := checkDigest(req, "n9"); err != nil {
		return err
	}
	if err := answerHandshake(cc, req, baseURL); err != nil {
		return err
	}
	for {
		req, err := cc.Read()
		if err != nil || req.Method == base.MethodTeardown {
			return nil
		}
		if err := answerHandshake(cc, req, baseURL); err != nil {
			return err
		}
	}
}

// TestClientRedirectCredentials: credentials follow a redirect on the
// same host and port, and to another one only with RedirectCredentials;
// without, that target's challenge fails with ErrAuthFailed.
func TestClientRedirectCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameHost  bool
		allow     bool
		wantCreds bool
	}{
		{"same host", true, false, true},
		{"other host", false, false, false},
		{"other host allowed", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, second := rtsptest.NewCamera(t), rtsptest.NewCamera(t)
			target := second
			if tc.sameHost {
				target = first
			}
			gotAuth := make(chan bool, 1)
			first.Serve(func(cc *rtsptest.CameraConn) error {
				if cc.N == 1 {
					return challengeThenPlay(cc, first.URL+"2", gotAuth)
				}
				return redirectAt(cc, first.URL, base.MethodDescribe, 302, target.URL+"2")
			})
			second.Serve(func(cc *rtsptest.CameraConn) error {
				return challengeThenPlay(cc, second.URL+"2", gotAuth)
			})
			cfg := fastConfig("rtsp://user:secret@" + strings.TrimPrefix(first.URL, "rtsp://"))
			cfg.RedirectCredentials = tc.allow
			c, err := rtsp.Dial(t.Context(), cfg)
			if got := rtsptest.Receive(t, "second OPTIONS", gotAuth); got != tc.wantCreds {
				t.Fatalf("credentials sent to the target: %v, want %v", got, tc.wantCreds)
			}
			if !tc.wantCreds {
				if !errors.Is(err, rtsp.ErrAuthFailed) {
					t.Fatalf("Dial: %v, want ErrAuthFailed", err)
				}
				first.Wait(t)
				target.Wait(t)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			closeAndWait(t, c, first, target)
		})
	}
}

// readClientResponse reads the client's answer to a request the camera
// sent (redirectConfig: no keepalive or report comes before it).
func readClientResponse(cc *rtsptest.CameraConn) (*base.Response, error) {
	_ = cc.Conn.SetReadDeadline(time.Now().Add(rtsptest.Timeout))
	var resp base.Response
	err := resp.Unmarshal(cc.Reader, base.Limits{})
	return &resp, err
}

// sendRedirect writes a REDIRECT request (RFC 2326 §10.10 example) and
// checks the client's answer.
func sendRedirect(cc *rtsptest.CameraConn, cseq int, location string, status int) error {
	req := fmt.Sprintf("REDIRECT %s RTSP/1.0\r\nCSeq: %d\r\nSession: %s\r\nLocation: %s\r\nRange: clock=19960213T143205Z-\r\n\r\n",
		"rtsp://127.0.0.1/cam1", cseq, rtsptest.CameraSession, location)
	if _, err := cc.Conn.Write([]byte(req)); err != nil {
		return err
	}
	resp, err := readClientResponse(cc)
	if err != nil {
		return fmt.Errorf("answer to REDIRECT: %w", err)
	}
	if resp.StatusCode != status || resp.Header.Get("CSeq") != strconv.Itoa(cseq) {
		return fmt.Errorf("REDIRECT answered %d CSeq %q, want %d %d", resp.StatusCode, resp.Header.Get("CSeq"), status, cseq)
	}
	return nil
}

// movingClient is a running client that records its packets and moves.
type movingClient struct {
	c     *rtsp.Client
	got   received
	moves chan rtsp.ClientRedirect
	run   <-chan error
}

// startMovingClient dials url and runs the client.
func startMovingClient(t *testing.T, url string) *movingClient {
	t.Helper()
	m := &movingClient{moves: make(chan rtsp.ClientRedirect, 1)}
	cfg := redirectConfig(url)
	cfg.OnRTP = m.got.onRTP
	cfg.OnRedirect = func(r rtsp.ClientRedirect) { m.moves <- r }
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.c, m.run = c, runClient(t.Context(), c)
	return m
}

// TestClientFollowsRedirectRequest: while playing, a REDIRECT request is
// answered 200, the session torn down and played again at Location
// (RTSP-M-39); OnRedirect reports the move and media flows from the new
// camera. A REDIRECT without a usable Location is answered 400 and
// changes nothing.
func TestClientFollowsRedirectRequest(t *testing.T) {
	first, second := rtsptest.NewCamera(t), rtsptest.NewCamera(t)
	first.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, first.URL); err != nil {
			return err
		}
		if err := cc.WriteFrame(0, rtsptest.RTP(1, 0)); err != nil {
			return err
		}
		if err := sendRedirect(cc, 1, "ftp://127.0.0.1/cam1", 400); err != nil {
			return err
		}
		if err := cc.WriteFrame(0, rtsptest.RTP(2, 0)); err != nil {
			return err
		}
		if err := sendRedirect(cc, 2, second.URL, 200); err != nil {
			return err
		}
		if teardown, err := cc.UntilTeardown(); err != nil || !teardown {
			return fmt.Errorf("no TEARDOWN after REDIRECT (%v)", err)
		}
		return nil
	})
	second.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, second.URL); err != nil {
			return err
		}
		if err := cc.WriteFrame(0, rtsptest.RTP(3, 0)); err != nil {
			return err
		}
		return untilTeardown(cc)
	})
	m := startMovingClient(t, first.URL)
	c, got, run := m.c, &m.got, m.run
	mv := rtsptest.Receive(t, "OnRedirect", m.moves)
	if mv.From != first.URL || mv.To != second.URL || mv.Range != "clock=19960213T143205Z-" {
		t.Fatalf("move %+v", mv)
	}
	first.Wait(t)
	rtsptest.WaitFor(t, "the second camera's packet", func() bool { return got.get() == "0:1 0:2 0:3" })
	if !strings.Contains(string(c.SDP()), second.URL) {
		t.Errorf("SDP %q is not the second camera's", c.SDP())
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := waitRun(t, run); !errors.Is(err, rtsp.ErrClientClosed) {
		t.Errorf("Run: %v", err)
	}
	second.Wait(t)
	checkNoLeaks(t)
}

// TestClientRedirectRequestLoop: REDIRECT requests without media in
// between end Run with ErrTooManyRedirects after MaxRedirects moves.
func TestClientRedirectRequestLoop(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error { return playThenRedirect(cc, cam.URL, cam.URL) })
	cfg := redirectConfig(cam.URL)
	cfg.MaxRedirects = 2
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, runClient(t.Context(), c)); !errors.Is(err, rtsp.ErrTooManyRedirects) {
		t.Fatalf("Run: %v, want ErrTooManyRedirects", err)
	}
	closeAndWait(t, c, cam, cam, cam) // Dial's connection and two moves
}

// playThenRedirect plays under baseURL, sends REDIRECT to location and
// answers until TEARDOWN.
func playThenRedirect(cc *rtsptest.CameraConn, baseURL, location string) error {
	if _, err := playHandshake(cc, baseURL); err != nil {
		return err
	}
	if err := sendRedirect(cc, 1, location, 200); err != nil {
		return err
	}
	return untilTeardown(cc)
}

// TestClientRedirectOtherMedia: a REDIRECT to a camera with other media
// ends Run with ErrRedirectMedia.
func TestClientRedirectOtherMedia(t *testing.T) {
	first, second := rtsptest.NewCamera(t), rtsptest.NewCamera(t)
	first.Serve(func(cc *rtsptest.CameraConn) error { return playThenRedirect(cc, first.URL, second.URL) })
	second.Serve(func(cc *rtsptest.CameraConn) error {
		oneTrack := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"
		if _, err := cc.Handshake(oneTrack, second.URL+"/", 1); err != nil {
			return err
		}
		return untilTeardown(cc)
	})
	c, err := rtsp.Dial(t.Context(), redirectConfig(first.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, runClient(t.Context(), c)); !errors.Is(err, rtsp.ErrRedirectMedia) {
		t.Fatalf("Run: %v, want ErrRedirectMedia", err)
	}
	closeAndWait(t, c, first, second)
}

// closeAndWait closes c, waits for the script of one connection of each
// camera (a camera twice for two) and checks that no goroutine is left.
func closeAndWait(t *testing.T, c *rtsp.Client, cams ...*rtsptest.Camera) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	for _, cam := range cams {
		cam.Wait(t)
	}
	checkNoLeaks(t)
}

// TestRedirectEndToEnd: camvault's client plays from a camvault server
// whose presentation moves it to another server with a REDIRECT request
// (issue 13: a live viewer of a camera that moves continues on the new
// owner): the client answers, tears down (the first presentation ends
// with ErrTeardown, before the grace), and plays on the second server.
func TestRedirectEndToEnd(t *testing.T) {
	h1, h2 := ffmpegHandler(), ffmpegHandler()
	srv1 := startServer(t, rtsp.Config{Handler: h1, RedirectGrace: time.Minute})
	srv2 := rtspservertest.Start(t, rtsp.Config{Handler: h2}) // stopped before srv1's leak check
	url1 := "rtsp://" + srv1.Addr().String() + "/archive/cam1"
	url2 := "rtsp://" + srv2.Addr().String() + "/archive/cam1"
	m := startMovingClient(t, url1)
	c, got, run := m.c, &m.got, m.run
	rtsptest.WaitFor(t, "the first server's packets", func() bool { return strings.Count(got.get(), " ") == 5 })
	pres1 := h1.presentation(t, 0)
	if err := pres1.lastPlay(t).Redirect.Redirect(url2, nil); err != nil {
		t.Fatal(err)
	}
	if reason := pres1.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("first presentation closed with %v, want ErrTeardown", reason)
	}
	if mv := rtsptest.Receive(t, "OnRedirect", m.moves); mv.From != url1 || mv.To != url2 {
		t.Fatalf("move %+v", mv)
	}
	rtsptest.WaitFor(t, "the second server's packets", func() bool { return strings.Count(got.get(), " ") == 11 })
	if st := srv1.Stats(); st.RedirectRequests != 1 || st.UnexpectedResponses != 0 {
		t.Fatalf("first server stats %+v", st)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := waitRun(t, run); !errors.Is(err, rtsp.ErrClientClosed) {
		t.Errorf("Run: %v", err)
	}
	if reason := h2.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("second presentation closed with %v", reason)
	}
}
