package rtsp_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/tunnel"
)

// b64Options is an OPTIONS request as a tunnel POST carries it.
func b64Options(addr string) string {
	return base64.StdEncoding.EncodeToString([]byte("OPTIONS rtsp://" + addr + "/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
}

// expectClosedQuietly reads nc to its end and fails if the server wrote
// anything (a POST is never answered, not even an RTSP answer of a request
// that should not have reached anyone).
func expectClosedQuietly(t *testing.T, nc net.Conn) {
	t.Helper()
	b, err := io.ReadAll(nc)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("not closed: %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("answered %q", b)
	}
}

// expectHTTPStatus reads an HTTP answer on nc, checks its status and that
// the server closes the connection after it.
func expectHTTPStatus(t *testing.T, nc net.Conn, status int) {
	t.Helper()
	br := bufio.NewReader(nc)
	if got, _ := rtsptest.ReadHTTPHead(t, br); got != status {
		t.Fatalf("status %d, want %d", got, status)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("connection left open after the refusal: %v", err)
	}
}

// checkTunnelWorks opens a fresh tunnel and gets an OPTIONS answer through
// it: the server still serves after a refusal.
func checkTunnelWorks(t *testing.T, srv *rtsp.Server, cookie string) {
	t.Helper()
	c, _ := openTunnel(t, srv, cookie)
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
}

// TestTunnelAttacks: the known attacks on RTSP over HTTP are refused
// cleanly, each counted in Stats.TunnelsRefused, and the server goes on
// serving; no goroutine is left (startServer's check). live555's
// CVE-2019-6256 and CVE-2019-7314 came from a GET and a POST with the same
// cookie on one connection and from a POST whose GET was gone.
func TestTunnelAttacks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		refusals int
		attack   func(t *testing.T, srv *rtsp.Server, addr string)
	}{
		{"get and post on one connection", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			tu := rtsptest.DialTunnel(t, addr, "/cam", "same")
			rtsptest.WriteString(t, tu.Get, rtsptest.TunnelHead("POST", "/cam", "same")+b64Options(addr))
			expectClosedQuietly(t, tu.Get)
		}},
		{"get and post in one write", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			nc := rtsptest.Dial(t, addr)
			rtsptest.WriteString(t, nc, rtsptest.TunnelHead("GET", "/cam", "pipelined")+rtsptest.TunnelHead("POST", "/cam", "pipelined")+b64Options(addr))
			expectHTTPStatus(t, nc, 400)
		}},
		{"post whose get is gone", 1, func(t *testing.T, srv *rtsp.Server, addr string) {
			tu := rtsptest.DialTunnel(t, addr, "/cam", "gone")
			_ = tu.Get.Close()
			rtsptest.WaitFor(t, "the GET's connection to end", func() bool { return srv.Stats().Connections == 0 })
			nc := rtsptest.Dial(t, addr)
			rtsptest.WriteString(t, nc, rtsptest.TunnelHead("POST", "/cam", "gone")+b64Options(addr))
			expectClosedQuietly(t, nc)
		}},
		{"post without get", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			nc := rtsptest.Dial(t, addr)
			rtsptest.WriteString(t, nc, rtsptest.TunnelHead("POST", "/cam", "never")+b64Options(addr))
			expectClosedQuietly(t, nc)
		}},
		{"anonymous post from another address", 1, func(t *testing.T, srv *rtsp.Server, addr string) {
			tu := rtsptest.DialTunnel(t, addr, "/cam", "mine")
			nc := dialFrom(t, srv, "127.0.0.2").Conn
			rtsptest.WriteString(t, nc, rtsptest.TunnelHead("POST", "/cam", "mine")+b64Options(addr))
			expectHTTPStatus(t, nc, 403)
			tu.OpenPost(t, "") // the owner's POST still pairs
			rtsptest.ExpectStatus(t, newClient(t, tu, "rtsp://"+addr).Do("OPTIONS", "*", nil, ""), 200)
		}},
		{"duplicate get", 1, func(t *testing.T, srv *rtsp.Server, addr string) {
			first := rtsptest.DialTunnel(t, addr, "/cam", "twice")
			if second := rtsptest.DialTunnel(t, addr, "/cam", "twice"); second.Status != 409 {
				t.Fatalf("second GET: %d, want 409", second.Status)
			}
			first.OpenPost(t, "")
			rtsptest.ExpectStatus(t, newClient(t, first, "rtsp://"+addr).Do("OPTIONS", "*", nil, ""), 200)
		}},
		{"two more posts", 2, func(t *testing.T, srv *rtsp.Server, addr string) {
			c, _ := openTunnel(t, srv, "busy")
			rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200) // the first POST carries
			// One more POST waits for the first to end, in vain; another is refused at
			// once. Which is which depends on which head the server reads first. Their
			// requests must never be answered (the player would see a CSeq it did not send).
			smuggled := base64.StdEncoding.EncodeToString([]byte("OPTIONS * RTSP/1.0\r\nCSeq: 99\r\n\r\n"))
			var more []net.Conn
			for range 2 {
				nc := rtsptest.Dial(t, addr)
				rtsptest.WriteString(t, nc, rtsptest.TunnelHead("POST", "/cam", "busy")+smuggled)
				more = append(more, nc)
			}
			rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200) // the first POST still carries
			var answers []string
			for _, nc := range more {
				b, _ := io.ReadAll(nc)
				status, _, _ := strings.Cut(strings.TrimPrefix(string(b), "HTTP/1.0 "), " ")
				answers = append(answers, status)
			}
			if slices.Sort(answers); !slices.Equal(answers, []string{"", "409"}) {
				t.Fatalf("answers %q, want one 409 and one close", answers)
			}
		}},
		{"cookie too long", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			if tu := rtsptest.DialTunnel(t, addr, "/cam", strings.Repeat("c", tunnel.MaxCookieLen+1)); tu.Status != 400 {
				t.Fatalf("status %d, want 400", tu.Status)
			}
		}},
		{"malformed cookie", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			nc := rtsptest.Dial(t, addr)
			rtsptest.WriteString(t, nc, "POST /cam HTTP/1.0\r\nx-sessioncookie: a;b\r\n\r\n")
			expectHTTPStatus(t, nc, 400)
		}},
		{"get without cookie", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			if tu := rtsptest.DialTunnel(t, addr, "/cam", ""); tu.Status != 400 {
				t.Fatalf("status %d, want 400", tu.Status)
			}
		}},
		{"get without post", 1, func(t *testing.T, _ *rtsp.Server, addr string) {
			tu := rtsptest.DialTunnel(t, addr, "/cam", "lonely")
			expectClosedQuietly(t, tu.Get)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tunnelConfig(ffmpegHandler()))
			addr := srv.Addr().String()
			tc.attack(t, srv, addr)
			rtsptest.WaitFor(t, "the refusals to be counted", func() bool { return srv.Stats().TunnelsRefused == uint64(tc.refusals) })
			checkTunnelWorks(t, srv, "after")
			if n := srv.Stats().TunnelsRefused; n != uint64(tc.refusals) {
				t.Fatalf("%d refusals counted, want %d", n, tc.refusals)
			}
		})
	}
}

// TestTunnelBadBase64: base64 garbage on the POST ends the tunnel: counted,
// one warning, both connections closed, nothing answered, no crash.
func TestTunnelBadBase64(t *testing.T) {
	var logs rtsptest.SyncBuffer
	cfg := tunnelConfig(ffmpegHandler())
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := startServer(t, cfg)
	_, tu := openTunnel(t, srv, "garbage")
	rtsptest.WriteString(t, tu.Post, "T1BU!!!!\x00\xff")
	expectClosedQuietly(t, tu.Get)
	expectClosedQuietly(t, tu.Post)
	rtsptest.WaitFor(t, "the refusal to be counted", func() bool { return srv.Stats().TunnelsRefused == 1 })
	if n := strings.Count(logs.String(), `msg="rtsp tunnel refused"`); n != 1 || !strings.Contains(logs.String(), "bad base64") {
		t.Fatalf("%d log lines:\n%s", n, logs.String())
	}
	checkTunnelWorks(t, srv, "after")
}

// TestTunnelTableFull: halves waiting for their other half are bounded by
// MaxPendingTunnels (SEC-03); one more gets 503, and a pairing frees room.
func TestTunnelTableFull(t *testing.T) {
	cfg := tunnelConfig(ffmpegHandler())
	cfg.MaxPendingTunnels, cfg.TunnelTimeout = 1, rtsptest.Timeout
	srv := startServer(t, cfg)
	addr := srv.Addr().String()
	first := rtsptest.DialTunnel(t, addr, "/cam", "one")
	if tu := rtsptest.DialTunnel(t, addr, "/cam", "two"); tu.Status != 503 {
		t.Fatalf("second pending GET: %d, want 503", tu.Status)
	}
	first.OpenPost(t, "")
	rtsptest.ExpectStatus(t, newClient(t, first, "rtsp://"+addr).Do("OPTIONS", "*", nil, ""), 200)
	checkTunnelWorks(t, srv, "three")
	if n := srv.Stats().TunnelsRefused; n != 1 {
		t.Fatalf("%d refusals counted, want 1", n)
	}
}

// panicCredentials panics when asked about a user.
type panicCredentials struct{}

func (panicCredentials) DigestHA1(string, string) (string, bool) { panic("credentials panic") }
func (panicCredentials) CheckPassword(context.Context, string, string) bool {
	panic("credentials panic")
}

// TestTunnelPanicEndsOnlyItsConnection: a panic while a tunnel request is
// read (here in the credentials behind Access) closes that connection
// only; the server goes on serving.
func TestTunnelPanicEndsOnlyItsConnection(t *testing.T) {
	sa, err := auth.NewServer(auth.ServerConfig{Realm: rtsptest.Realm})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tunnelConfig(ffmpegHandler())
	cfg.Access = &rtsp.Access{Auth: sa, Credentials: panicCredentials{}}
	srv := startServer(t, cfg)
	nc := rtsptest.Dial(t, srv.Addr().String())
	rtsptest.WriteString(t, nc, rtsptest.TunnelHead("GET", "/cam", "boom",
		`Authorization: Digest username="viewer", realm="NVR", nonce="x", uri="/cam", response="0"`))
	expectClosedQuietly(t, nc)
	checkTunnelWorks(t, srv, "after")
}
