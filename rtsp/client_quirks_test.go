package rtsp_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// oneTrackSDP is a camera SDP with one H.264 track whose control is %s.
const oneTrackSDP = "v=0\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:%s\r\n"

// answerDescribe answers OPTIONS with optionsStatus and DESCRIBE with
// oneTrackSDP for control, and Content-Base when baseURL is not "".
func answerDescribe(cc *rtsptest.CameraConn, optionsStatus int, control, baseURL string) error {
	req, err := cc.Expect(base.MethodOptions)
	if err != nil {
		return err
	}
	if err := cc.Reply(req, optionsStatus, "", "Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"); err != nil {
		return err
	}
	if req, err = cc.Expect(base.MethodDescribe); err != nil {
		return err
	}
	var hdr []string
	if baseURL != "" {
		hdr = []string{"Content-Base", baseURL}
	}
	return cc.Reply(req, 200, fmt.Sprintf(oneTrackSDP, control), hdr...)
}

// describeAndSetup answers OPTIONS and DESCRIBE with one track under
// Content-Base url/ and returns the SETUP that follows.
func describeAndSetup(cc *rtsptest.CameraConn, url string) (*base.Request, error) {
	if err := answerDescribe(cc, 200, "trackID=0", url+"/"); err != nil {
		return nil, err
	}
	return cc.Expect(base.MethodSetup)
}

// answerSetupAndPlay accepts a SETUP with the transport it asked for
// (plus suffix) and PLAY, then answers keepalives until TEARDOWN.
func answerSetupAndPlay(cc *rtsptest.CameraConn, req *base.Request, session, suffix string) error {
	if err := cc.Reply(req, 200, "", "Session", session, "Transport", req.Header.Get("Transport")+suffix); err != nil {
		return err
	}
	req, err := cc.Expect(base.MethodPlay)
	if err != nil {
		return err
	}
	if err := cc.Reply(req, 200, ""); err != nil {
		return err
	}
	return untilTeardown(cc)
}

// dialAndClose plays cam with cfg and closes the client, checks that the
// camera script succeeded and that no goroutine leaked, and returns the
// closed client.
func dialAndClose(t *testing.T, cam *rtsptest.Camera, cfg rtsp.ClientConfig) *rtsp.Client {
	t.Helper()
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	cam.Wait(t)
	checkNoLeaks(t)
	return c
}

// isUDP reports whether a SETUP asks for UDP.
func isUDP(req *base.Request) bool {
	return strings.Contains(req.Header.Get("Transport"), "client_port=")
}

// TestClientTransportFallback: a camera that answers SETUP with 461
// Unsupported Transport is set up over the other transport, logged once
// (CLI-22).
func TestClientTransportFallback(t *testing.T) {
	for _, tt := range []struct{ first, second string }{{"tcp", "udp"}, {"udp", "tcp"}} {
		t.Run(tt.first+" refused", func(t *testing.T) {
			cam := rtsptest.NewCamera(t)
			cam.Serve(func(cc *rtsptest.CameraConn) error {
				req, err := describeAndSetup(cc, cam.URL)
				if err != nil {
					return err
				}
				if isUDP(req) != (tt.first == "udp") {
					return fmt.Errorf("first SETUP transport %q", req.Header.Get("Transport"))
				}
				if err := cc.Reply(req, 461, ""); err != nil {
					return err
				}
				if req, err = cc.Expect(base.MethodSetup); err != nil {
					return err
				}
				if isUDP(req) != (tt.second == "udp") || req.URL != cam.URL+"/trackID=0" {
					return fmt.Errorf("second SETUP %s transport %q", req.URL, req.Header.Get("Transport"))
				}
				suffix := ""
				if tt.second == "udp" {
					suffix = ";server_port=9000-9001"
				}
				return answerSetupAndPlay(cc, req, "s1", suffix)
			})
			log, logs := captureLogger()
			cfg := fastConfig(cam.URL)
			cfg.Transport, cfg.Logger = tt.first, log
			if c := dialAndClose(t, cam, cfg); c.Transport() != tt.second {
				t.Errorf("Transport() = %q, want %q", c.Transport(), tt.second)
			}
			if n := strings.Count(logs.String(), "camera refused transport"); n != 1 {
				t.Errorf("%d fallback lines, want 1:\n%s", n, logs)
			}
		})
	}
}

// TestClientTrackURLFallback: a SETUP refused with 404, 454 or 459 on the
// resolved track URL is retried once with the other form (CLI-21,
// RTSP-URL-02); a second refusal fails Dial.
func TestClientTrackURLFallback(t *testing.T) {
	tests := []struct {
		name     string
		control  string
		base     string // Content-Base; "" sends none
		status   int
		accepted string // path the camera accepts; "" accepts none
		want     []string
	}{
		{name: "absolute path control, naive works", control: "/track1", base: "/cam1/", status: 404,
			accepted: "/cam1/track1", want: []string{"/track1", "/cam1/track1"}},
		{name: "no content-base, rfc 3986 works", control: "trackID=0", status: 454,
			accepted: "/trackID=0", want: []string{"/cam1/trackID=0", "/trackID=0"}},
		{name: "459 retried", control: "/track1", base: "/cam1/", status: 459,
			accepted: "/cam1/track1", want: []string{"/track1", "/cam1/track1"}},
		{name: "both refused", control: "/track1", base: "/cam1/", status: 404,
			want: []string{"/track1", "/cam1/track1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cam := rtsptest.NewCamera(t)
			root := strings.TrimSuffix(cam.URL, "/cam1")
			var got []string
			cam.Serve(func(cc *rtsptest.CameraConn) error {
				contentBase := ""
				if tt.base != "" {
					contentBase = root + tt.base
				}
				if err := answerDescribe(cc, 200, tt.control, contentBase); err != nil {
					return err
				}
				for {
					req, err := cc.Read()
					if err != nil {
						return nil // the client hung up after failing
					}
					if req.Method != base.MethodSetup {
						return fmt.Errorf("got %s, want SETUP", req.Method)
					}
					got = append(got, strings.TrimPrefix(req.URL, root))
					if strings.TrimPrefix(req.URL, root) == tt.accepted {
						return answerSetupAndPlay(cc, req, "s1", "")
					}
					if err := cc.Reply(req, tt.status, ""); err != nil {
						return err
					}
				}
			})
			c, err := rtsp.Dial(t.Context(), fastConfig(cam.URL))
			if tt.accepted == "" {
				if !rtsp.HasStatus(err, tt.status) {
					t.Errorf("Dial: %v, want status %d", err, tt.status)
				}
			} else if err != nil {
				t.Fatalf("Dial: %v", err)
			} else if err := c.Close(); err != nil {
				t.Error(err)
			}
			cam.Wait(t)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("SETUP urls %v, want %v", got, tt.want)
			}
			checkNoLeaks(t)
		})
	}
}

// TestControlFallback covers the track URL a refused SETUP is retried with.
func TestControlFallback(t *testing.T) {
	tests := []struct{ name, base, control, want string }{
		{"relative, slash base: same either way", "rtsp://h/cam1/", "trackID=0", ""},
		{"relative, bare base: rfc 3986", "rtsp://h/cam1", "trackID=0", "rtsp://h/trackID=0"},
		{"absolute path: naive", "rtsp://h/cam1/", "/media/v1", "rtsp://h/cam1/media/v1"},
		{"query base: rfc 3986", "rtsp://h/live?ch=1", "trackID=1", "rtsp://h/trackID=1"},
		{"absolute url: none", "rtsp://h/cam1/", "rtsp://other/x", ""},
		{"star: none", "rtsp://h/cam1/", "*", ""},
		{"empty: none", "rtsp://h/cam1/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rtsp.ControlFallback(tt.base, tt.control, rtsp.ResolveControl(tt.base, tt.control)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseClientSession: the client takes any printable session id and
// ignores a timeout it cannot read (CLI-24).
func TestParseClientSession(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		timeout time.Duration
		ok      bool
	}{
		{"12345678", "12345678", 0, true},
		{"12345678;timeout=30", "12345678", 30 * time.Second, true},
		{" abc ; timeout = 20 ; foo=bar", "abc", 20 * time.Second, true},
		{"a!b~c{};timeout=bogus", "a!b~c{}", 0, true},
		{"abc;timeout=0", "abc", 0, true},
		{"abc;timeout=-5", "abc", 0, true},
		{"", "", 0, false},
		{";timeout=60", "", 0, false},
		{"a b", "", 0, false},
		{strings.Repeat("x", 129), "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, timeout, err := rtsp.ParseClientSession(tt.in)
			if (err == nil) != tt.ok || id != tt.id || timeout != tt.timeout {
				t.Errorf("got %q %v %v, want %q %v ok=%v", id, timeout, err, tt.id, tt.timeout, tt.ok)
			}
		})
	}
}

// TestClientSessionQuirks: a camera whose Session has an odd id and a
// malformed timeout is played, with the id echoed and the 60s default.
func TestClientSessionQuirks(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	var sessions []string
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := describeAndSetup(cc, cam.URL)
		if err != nil {
			return err
		}
		if err := cc.Reply(req, 200, "", "Session", "A1!x~;timeout=soon;x-vendor=1",
			"Transport", req.Header.Get("Transport")); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodPlay); err != nil {
			return err
		}
		sessions = append(sessions, req.Header.Get("Session"))
		if err := cc.Reply(req, 200, ""); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodTeardown); err != nil {
			return err
		}
		sessions = append(sessions, req.Header.Get("Session"))
		return nil
	})
	dialAndClose(t, cam, fastConfig(cam.URL))
	if fmt.Sprint(sessions) != "[A1!x~ A1!x~]" {
		t.Errorf("sessions sent %q", sessions)
	}
}

// TestClientOptionsRefused: a camera that answers OPTIONS with 501 is still
// described and played (CLI-13: some cameras do not implement OPTIONS).
func TestClientOptionsRefused(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if err := answerDescribe(cc, 501, "trackID=0", ""); err != nil {
			return err
		}
		req, err := cc.Expect(base.MethodSetup)
		if err != nil {
			return err
		}
		return answerSetupAndPlay(cc, req, "s1", "")
	})
	dialAndClose(t, cam, fastConfig(cam.URL))
}

// TestClientUDPSource: a camera that sends media from another IP than its
// RTSP address, named in the Transport reply's source=, and that gives no
// server_port, is played: its packets are taken, a stranger's dropped, and
// no receiver report is attempted.
func TestClientUDPSource(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	media, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)})
	if err != nil {
		t.Skipf("no 127.0.0.3 on this host: %v", err)
	}
	defer media.Close()
	reportsDue := make(chan struct{})
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := describeAndSetup(cc, cam.URL)
		if err != nil {
			return err
		}
		dst, err := playUDP(cc, req, ";source=127.0.0.3")
		if err != nil {
			return err
		}
		for _, seq := range []uint16{1, 2} {
			if _, err := media.WriteToUDP(rtsptest.RTP(seq, 0), dst); err != nil {
				return err
			}
		}
		// Run's loop answers keepalives and sends reports at the same
		// interval: three keepalives mean the reports were due.
		if err := cc.AnswerKeepalives(3); err != nil {
			return err
		}
		close(reportsDue)
		return untilTeardown(cc)
	})
	var got received
	cfg := fastConfig(cam.URL)
	cfg.Transport, cfg.OnRTP = "udp", got.onRTP
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := runClient(t.Context(), c)
	rtsptest.WaitFor(t, "OnRTP got 0:1 0:2", func() bool { return got.get() == "0:1 0:2" })
	rtsptest.Receive(t, "three keepalives", reportsDue) // reports were due: none may fail Run
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := waitRun(t, run); !errors.Is(err, rtsp.ErrClientClosed) {
		t.Errorf("Run: %v, want ErrClientClosed", err)
	}
	cam.Wait(t)
	if got.get() != "0:1 0:2" {
		t.Errorf("OnRTP got %q", got.get())
	}
	checkNoLeaks(t)
}
