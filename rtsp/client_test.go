package rtsp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// runClient runs c.Run in a goroutine and returns a channel with its result.
func runClient(ctx context.Context, c *rtsp.Client) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Run(ctx) }()
	return ch
}

func waitRun(t *testing.T, ch <-chan error) error {
	t.Helper()
	return rtsptest.Receive(t, "Run to return", ch)
}

// checkDigest verifies the Authorization of req against user/secret.
func checkDigest(req *base.Request, nonce string) error {
	a, err := auth.ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return fmt.Errorf("%s authorization: %w", req.Method, err)
	}
	if a.Username != "user" || a.Nonce != nonce || a.URI != req.URL || !auth.VerifyDigest(&a, req.Method, "secret") {
		return fmt.Errorf("%s: bad authorization %+v", req.Method, a)
	}
	return nil
}

// TestClientDigestAuth plays a camera that answers 401, then accepts
// Digest (qop=auth) from URL credentials, then says the nonce is stale;
// RTP is delivered, keepalives and receiver reports are sent, and the
// password never reaches the log.
func TestClientDigestAuth(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	camURL := cam.URL
	var setupURLs []string
	var rr []byte
	flowed := make(chan struct{}) // closed once keepalives and reports came
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := cc.Expect(base.MethodOptions)
		if err != nil {
			return err
		}
		if req.Header.Has("Authorization") {
			return errors.New("credentials sent before a challenge")
		}
		if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Basic realm="cam"`,
			"WWW-Authenticate", `Digest realm="cam", nonce="n1", qop="auth"`); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodOptions); err != nil {
			return err
		}
		if err := checkDigest(req, "n1"); err != nil {
			return err
		}
		if err := cc.Reply(req, 200, "", "Public", "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER"); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodDescribe); err != nil {
			return err
		}
		if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Digest realm="cam", nonce="n2", qop="auth", stale=TRUE`); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodDescribe); err != nil {
			return err
		}
		if err := checkDigest(req, "n2"); err != nil {
			return err
		}
		if err := cc.Reply(req, 200, fmt.Sprintf(camSDP, camURL), "Content-Base", camURL+"/"); err != nil {
			return err
		}
		if setupURLs, err = setupAndPlay(cc, 2); err != nil {
			return err
		}
		for _, p := range []struct {
			ch  byte
			seq uint16
		}{{0, 1}, {0, 2}, {2, 7}, {0, 4}} {
			if err := cc.WriteFrame(p.ch, rtsptest.RTP(p.seq, uint32(p.seq)*3000)); err != nil {
				return err
			}
		}
		for cc.Frames[1] == 0 || cc.Frames[3] == 0 || !hasMethod(cc.Methods, base.MethodGetParameter) {
			req, err := cc.Read()
			if err != nil {
				return fmt.Errorf("waiting for keepalive and reports: %w", err)
			}
			if err := checkDigest(req, "n2"); err != nil {
				return err
			}
			if err := cc.Reply(req, 200, ""); err != nil {
				return err
			}
		}
		rr = cc.LastFrame
		close(flowed)
		return untilTeardown(cc)
	})
	var got received
	cfg := fastConfig(strings.Replace(cam.URL, "rtsp://", "rtsp://user:secret@", 1))
	cfg.OnRTP = got.onRTP
	log, logs := captureLogger()
	cfg.Logger = log
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	run := runClient(ctx, c)
	rtsptest.WaitFor(t, "OnRTP got 0:1 0:2 1:7 0:4", func() bool { return got.get() == "0:1 0:2 1:7 0:4" })
	rtsptest.Receive(t, "keepalive and receiver reports on both channels", flowed)
	cancel()
	if err := waitRun(t, run); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	cam.Wait(t)
	want := []string{camURL + "/trackID=0", camURL + "/abs1"}
	if strings.Join(setupURLs, " ") != strings.Join(want, " ") {
		t.Errorf("SETUP URLs %q, want %q", setupURLs, want)
	}
	checkRR(t, rr)
	if s := logs.String(); strings.Contains(s, "secret") || s == "" {
		t.Errorf("log leaks the password or is empty:\n%s", s)
	}
	checkNoLeaks(t)
}

func hasMethod(ms []base.Method, m base.Method) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// checkRR checks a receiver report of the last stream that got RTP:
// either stream 0 (seq 1, 2, 4: one lost) or stream 1 (seq 7).
func checkRR(t *testing.T, rr []byte) {
	t.Helper()
	if len(rr) < 32 || rr[0] != 0x81 || rr[1] != 201 || binary.BigEndian.Uint16(rr[2:]) != 7 {
		t.Fatalf("not an RR with one block: % x", rr)
	}
	if ssrc := binary.BigEndian.Uint32(rr[8:]); ssrc != 0xdeadbeef {
		t.Errorf("report block ssrc %x", ssrc)
	}
	lost := binary.BigEndian.Uint32(rr[12:]) & 0xffffff
	extMax := binary.BigEndian.Uint32(rr[16:])
	if !(extMax == 4 && lost == 1) && !(extMax == 7 && lost == 0) {
		t.Errorf("extended max %d, cumulative lost %d", extMax, lost)
	}
	sdes := rr[32:]
	if len(sdes) < 8 || sdes[1] != 202 || sdes[8] != 1 || len(sdes)%4 != 0 {
		t.Errorf("no SDES CNAME after the RR: % x", sdes)
	}
}

// TestClientWrongPassword: a refused password is a clear error that
// carries neither the password nor the userinfo.
func TestClientWrongPassword(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		for {
			req, err := cc.Read()
			if err != nil {
				return nil // the client gave up and closed
			}
			if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Digest realm="cam", nonce="n1"`); err != nil {
				return err
			}
		}
	})
	cfg := fastConfig(cam.URL)
	cfg.Username, cfg.Password = "user", "hunter2"
	log, logs := captureLogger()
	cfg.Logger = log
	_, err := rtsp.Dial(t.Context(), cfg)
	if !errors.Is(err, rtsp.ErrAuthFailed) {
		t.Fatalf("Dial: %v, want ErrAuthFailed", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(logs.String(), "hunter2") {
		t.Errorf("password leaked: %v\n%s", err, logs.String())
	}
	t.Logf("Dial: %v", err)
	cam.Wait(t)
	checkNoLeaks(t)
}

// TestClientNoPlayResponse: a camera that never answers PLAY makes Dial
// fail with ErrResponseTimeout.
func TestClientNoPlayResponse(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshakeUntilPlay(cc, cam.URL); err != nil {
			return err
		}
		_, _ = cc.Read() // wait for the client to hang up
		return nil
	})
	cfg := fastConfig(cam.URL)
	cfg.ResponseTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err := rtsp.Dial(t.Context(), cfg)
	if !errors.Is(err, rtsp.ErrResponseTimeout) || !strings.Contains(err.Error(), "PLAY") {
		t.Fatalf("Dial: %v, want a PLAY response timeout", err)
	}
	t.Logf("Dial: %v", err)
	// The configured timeout, not the default: a busy machine only makes it later.
	if d := time.Since(start); d < cfg.ResponseTimeout || d >= rtsp.DefaultClientResponseTimeout/2 {
		t.Errorf("timeout took %v, want %v", d, cfg.ResponseTimeout)
	}
	cam.Wait(t)
	checkNoLeaks(t)
}

// playHandshakeUntilPlay is playHandshake without the PLAY response.
func playHandshakeUntilPlay(cc *rtsptest.CameraConn, baseURL string) (*base.Request, error) {
	for _, m := range []base.Method{base.MethodOptions, base.MethodDescribe, base.MethodSetup, base.MethodSetup} {
		req, err := cc.Expect(m)
		if err != nil {
			return nil, err
		}
		hdr := []string{"Session", "12345678", "Transport", req.Header.Get("Transport")}
		body := ""
		if m == base.MethodDescribe {
			body = fmt.Sprintf(camSDP, baseURL)
		}
		if err := cc.Reply(req, 200, body, hdr...); err != nil {
			return nil, err
		}
	}
	return cc.Expect(base.MethodPlay)
}

// TestClientNoMedia: Run fails with ErrMediaTimeout, and Close still
// sends TEARDOWN.
func TestClientNoMedia(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, cam.URL); err != nil {
			return err
		}
		if err := untilTeardown(cc); err != nil {
			return err
		}
		if !hasMethod(cc.Methods, base.MethodTeardown) {
			return errors.New("no TEARDOWN")
		}
		if hasMethod(cc.Methods, base.MethodGetParameter) {
			return errors.New("GET_PARAMETER keepalive though Public lacks it")
		}
		return nil
	})
	cfg := fastConfig(cam.URL)
	cfg.MediaTimeout = 200 * time.Millisecond
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, runClient(t.Context(), c)); !errors.Is(err, rtsp.ErrMediaTimeout) {
		t.Errorf("Run: %v, want ErrMediaTimeout", err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	cam.Wait(t)
	checkNoLeaks(t)
}

// TestClientCameraCloses: a camera that closes mid-stream ends Run with
// an error; a server request in the stream is answered with 501 (CLI-24).
func TestClientCameraCloses(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, cam.URL); err != nil {
			return err
		}
		if err := cc.WriteFrame(0, rtsptest.RTP(1, 0)); err != nil {
			return err
		}
		if _, err := cc.Conn.Write([]byte("SET_PARAMETER rtsp://c/ RTSP/1.0\r\nCSeq: 9\r\n\r\n")); err != nil {
			return err
		}
		var resp base.Response
		for {
			if b, err := cc.Reader.Peek(1); err != nil || b[0] != '$' {
				break
			}
			var f base.InterleavedFrame
			if err := f.Unmarshal(cc.Reader, make([]byte, 1<<16)); err != nil {
				return err
			}
		}
		if err := resp.Unmarshal(cc.Reader, base.Limits{}); err != nil {
			return err
		}
		if resp.StatusCode != 501 || resp.Header.Get("CSeq") != "9" {
			return fmt.Errorf("server request answered %d cseq %s", resp.StatusCode, resp.Header.Get("CSeq"))
		}
		return cc.Conn.Close()
	})
	cfg := fastConfig(cam.URL)
	cfg.KeepaliveInterval, cfg.ReceiverReportInterval = time.Minute, time.Minute
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = waitRun(t, runClient(t.Context(), c))
	if err == nil || errors.Is(err, rtsp.ErrMediaTimeout) || errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want a connection error", err)
	}
	t.Logf("Run: %v", err)
	_ = c.Close()
	cam.Wait(t)
	checkNoLeaks(t)
}

// TestClientUDP plays over UDP: RTP from the camera's IP reaches OnRTP,
// and receiver reports reach the camera's RTCP port.
func TestClientUDP(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	srvRTP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srvRTP.Close()
	srvRTCP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srvRTCP.Close()
	serverPorts := strconv.Itoa(srvRTP.LocalAddr().(*net.UDPAddr).Port) + "-" +
		strconv.Itoa(srvRTCP.LocalAddr().(*net.UDPAddr).Port)
	const sdp = "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	var rr []byte
	rrReady := make(chan struct{})
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := cc.Expect(base.MethodOptions)
		if err != nil {
			return err
		}
		if err := cc.Reply(req, 200, ""); err != nil {
			return err
		}
		if req, err = cc.Expect(base.MethodDescribe); err != nil {
			return err
		}
		if err := cc.Reply(req, 200, sdp); err != nil { // no Content-Base: request URL
			return err
		}
		if req, err = cc.Expect(base.MethodSetup); err != nil {
			return err
		}
		if req.URL != cam.URL {
			return fmt.Errorf("setup url %q", req.URL)
		}
		dst, err := playUDP(cc, req, ";server_port="+serverPorts)
		if err != nil {
			return err
		}
		for _, seq := range []uint16{1, 2, 4} {
			if _, err := srvRTP.WriteToUDP(rtsptest.RTP(seq, 0), dst); err != nil {
				return err
			}
		}
		_ = srvRTCP.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 1500)
		for {
			n, err := srvRTCP.Read(buf)
			if err != nil {
				return fmt.Errorf("waiting for RR: %w", err)
			}
			if n >= 32 && buf[0] == 0x81 {
				rr = append([]byte(nil), buf[:n]...)
				close(rrReady)
				break
			}
		}
		return untilTeardown(cc)
	})
	var got received
	cfg := fastConfig(cam.URL)
	cfg.Transport = "udp"
	cfg.OnRTP = got.onRTP
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	run := runClient(ctx, c)
	rtsptest.WaitFor(t, "OnRTP got 0:1 0:2 0:4", func() bool { return got.get() == "0:1 0:2 0:4" })
	rtsptest.Receive(t, "a receiver report", rrReady)
	cancel()
	_ = waitRun(t, run)
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	cam.Wait(t)
	if got.get() != "0:1 0:2 0:4" {
		t.Errorf("OnRTP got %q", got.get())
	}
	checkRR(t, rr)
	checkNoLeaks(t)
}

// TestResolveControl covers RTSP-URL-01/02 and CLI-21 from the client side.
func TestResolveControl(t *testing.T) {
	tests := []struct {
		name, base, control, want string
	}{
		{"relative, slash base", "rtsp://h/cam1/", "trackID=0", "rtsp://h/cam1/trackID=0"},
		{"relative, bare base", "rtsp://h/cam1", "trackID=0", "rtsp://h/cam1/trackID=0"},
		{"absolute", "rtsp://h/cam1/", "rtsp://other:8554/x/track1", "rtsp://other:8554/x/track1"},
		{"absolute, upper-case scheme", "rtsp://h/cam1/", "RTSP://h/t", "RTSP://h/t"},
		{"star", "rtsp://h/cam1/", "*", "rtsp://h/cam1/"},
		{"empty", "rtsp://h/cam1", "", "rtsp://h/cam1"},
		{"base with query", "rtsp://h/live?ch=1", "trackID=1", "rtsp://h/live?ch=1/trackID=1"},
		{"absolute path", "rtsp://h:554/cam1/", "/media/video1", "rtsp://h:554/media/video1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rtsp.ResolveControl(tt.base, tt.control); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClientNoCredentials: a 401 without configured credentials fails
// with ErrAuthFailed, and a bad config is refused before dialing.
func TestClientNoCredentials(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := cc.Expect(base.MethodOptions)
		if err != nil {
			return err
		}
		if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Basic realm="cam"`); err != nil {
			return err
		}
		_, _ = cc.Read()
		return nil
	})
	if _, err := rtsp.Dial(t.Context(), fastConfig(cam.URL)); !errors.Is(err, rtsp.ErrAuthFailed) {
		t.Errorf("Dial: %v, want ErrAuthFailed", err)
	}
	cam.Wait(t)
	for _, cfg := range []rtsp.ClientConfig{{URL: "http://h/x"}, {URL: "rtsp://h/x", Transport: "sctp"}} {
		if _, err := rtsp.Dial(t.Context(), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	checkNoLeaks(t)
}

// TestClientDialCancel: cancelling ctx ends a Dial stuck on a silent camera.
func TestClientDialCancel(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		_, _ = cc.Read() // OPTIONS, never answered
		_, _ = cc.Read() // until the client hangs up
		return nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	cfg := fastConfig(cam.URL)
	cfg.ResponseTimeout = 5 * time.Second
	if _, err := rtsp.Dial(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial: %v, want DeadlineExceeded", err)
	}
	cam.Wait(t)
	checkNoLeaks(t)
}

// TestClientCloseWhileRunning: Close sends TEARDOWN, stops Run (which
// returns ErrClientClosed) and waits for it.
func TestClientCloseWhileRunning(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	running := make(chan struct{}) // closed when Run's first keepalive came
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, cam.URL); err != nil {
			return err
		}
		if err := cc.AnswerKeepalives(1); err != nil {
			return err
		}
		close(running)
		if err := untilTeardown(cc); err != nil {
			return err
		}
		if !hasMethod(cc.Methods, base.MethodTeardown) {
			return errors.New("no TEARDOWN")
		}
		return nil
	})
	c, err := rtsp.Dial(t.Context(), fastConfig(cam.URL))
	if err != nil {
		t.Fatal(err)
	}
	run := runClient(t.Context(), c)
	rtsptest.Receive(t, "Run's first keepalive", running)
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := waitRun(t, run); !errors.Is(err, rtsp.ErrClientClosed) {
		t.Errorf("Run: %v, want ErrClientClosed", err)
	}
	if err := c.Run(t.Context()); !errors.Is(err, rtsp.ErrClientClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	cam.Wait(t)
	checkNoLeaks(t)
}

// TestDialValidates: Dial fills the defaults and holds a Go caller to the operator's bounds
// before it dials, besides the URL and transport it needs.
func TestDialValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  rtsp.ClientConfig
		want string
	}{
		{"keepalive", rtsp.ClientConfig{URL: "rtsp://127.0.0.1:1/cam", KeepaliveInterval: 50 * time.Millisecond}, "keepalive_interval"},
		{"negative timeout", rtsp.ClientConfig{URL: "rtsp://127.0.0.1:1/cam", DialTimeout: -time.Second}, "dial_timeout"},
		{"url", rtsp.ClientConfig{URL: "http://127.0.0.1/cam"}, "url"},
		{"transport", rtsp.ClientConfig{URL: "rtsp://127.0.0.1:1/cam", Transport: "sctp"}, "transport"},
	} {
		_, err := rtsp.Dial(t.Context(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Dial = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}
