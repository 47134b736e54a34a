package api_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/rtsptest"
)

// handed is a connection the HTTP server gave to the tunnels.
type handed struct {
	nc        net.Conn
	head      string
	tls       bool
	websocket bool
}

// fakeTunnels passes what it is handed to the test.
type fakeTunnels struct{ got chan handed }

func (f fakeTunnels) ServeHTTPTunnel(nc net.Conn, head []byte, tls bool) error {
	f.got <- handed{nc: nc, head: string(head), tls: tls}
	return nil
}

func (f fakeTunnels) ServeWebSocket(nc net.Conn, tls bool) error {
	f.got <- handed{nc: nc, tls: tls, websocket: true}
	return nil
}

// routes records the route labels ServeHTTP reports.
type routes struct {
	mu     sync.Mutex
	labels []string
}

func (r *routes) observe(route string, _ int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.labels = append(r.labels, route)
}

func (r *routes) has(route string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.labels {
		if l == route {
			return true
		}
	}
	return false
}

// runTunnelServer serves an API whose tunnels are tunnels on loopback until
// the test ends and returns its address.
func runTunnelServer(t *testing.T, tunnels api.Tunnels, observe func(string, int, time.Duration)) string {
	t.Helper()
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Address: "127.0.0.1:0"}, api.Deps{Authority: a, Tunnels: tunnels, ObserveHTTP: observe})
	if err != nil {
		t.Fatal(err)
	}
	return running(t, srv)
}

// TestTunnelHandover: a tunnel GET or POST on any path is hijacked and
// handed over with its head written again and what followed it; nothing
// is answered by the HTTP server.
func TestTunnelHandover(t *testing.T) {
	tunnels := fakeTunnels{got: make(chan handed, 1)}
	var seen routes
	addr := runTunnelServer(t, tunnels, seen.observe)

	get := rtsptest.Dial(t, addr)
	rtsptest.WriteString(t, get, rtsptest.TunnelHead("GET", "/archive/cam?start=1", "c00k1e", "Accept: application/x-rtsp-tunnelled"))
	h := rtsptest.Receive(t, "the GET handed over", tunnels.got)
	if !strings.HasPrefix(h.head, "GET /archive/cam?start=1 HTTP/1.0\r\n") || !strings.Contains(h.head, "\r\nX-Sessioncookie: c00k1e\r\n") ||
		!strings.HasSuffix(h.head, "\r\n\r\n") || h.tls || h.websocket {
		t.Fatalf("handed %q tls=%v", h.head, h.tls)
	}
	rtsptest.WriteString(t, h.nc, "HTTP/1.0 200 OK\r\n\r\nRTSP")
	if status, _ := rtsptest.ReadHTTPHead(t, bufio.NewReader(get)); status != 200 {
		t.Fatalf("GET answered %d", status)
	}
	_ = h.nc.Close()

	post := rtsptest.Dial(t, addr)
	rtsptest.WriteString(t, post, rtsptest.TunnelHead("POST", "/archive/cam", "c00k1e", "Content-Length: 32767")+"T1BU")
	h = rtsptest.Receive(t, "the POST handed over", tunnels.got)
	rtsptest.WriteString(t, post, "SU9OUw==")
	_ = post.Close()
	rest, _ := io.ReadAll(h.nc)
	_, body, _ := strings.Cut(h.head, "\r\n\r\n")
	if !strings.HasPrefix(h.head, "POST /archive/cam HTTP/1.0\r\n") || body+string(rest) != "T1BUSU9OUw==" {
		t.Fatalf("handed %q then %q", h.head, rest)
	}
	_ = h.nc.Close()
	rtsptest.WaitFor(t, "the route reported", func() bool { return seen.has("rtsp tunnel") })
}

// TestTunnelWebSocket: a WebSocket offering rtsp.onvif.org is accepted and
// handed over as a byte stream of its binary messages; one without the
// subprotocol is no tunnel, and one from a page of another origin is
// refused.
func TestTunnelWebSocket(t *testing.T) {
	tunnels := fakeTunnels{got: make(chan handed, 1)}
	addr := runTunnelServer(t, tunnels, nil)
	ctx, cancel := context.WithTimeout(context.Background(), rtsptest.Timeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws://"+addr+"/archive/cam", &websocket.DialOptions{Subprotocols: []string{"rtsp.onvif.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-Websocket-Protocol") != "rtsp.onvif.org" {
		t.Fatalf("subprotocol %q", resp.Header.Get("Sec-Websocket-Protocol"))
	}
	h := rtsptest.Receive(t, "the WebSocket handed over", tunnels.got)
	if !h.websocket || h.tls {
		t.Fatalf("handed %+v", h)
	}
	if err := ws.Write(ctx, websocket.MessageBinary, []byte("OPTIONS * RTSP/1.0\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctx, websocket.MessageBinary, []byte("CSeq: 1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(h.nc)
	var got string
	for !strings.HasSuffix(got, "\r\n\r\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got += line
	}
	if got != "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n" {
		t.Fatalf("stream %q", got)
	}
	rtsptest.WriteString(t, h.nc, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
	typ, msg, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || string(msg) != "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n" {
		t.Fatalf("read %v %q %v", typ, msg, err)
	}
	read := make(chan error, 1)
	go func() { // the RTSP server always reads: that answers the close handshake
		_, err := br.ReadByte()
		read <- err
	}()
	_ = ws.Close(websocket.StatusNormalClosure, "")
	if err := rtsptest.Receive(t, "the server side's read to end", read); !errors.Is(err, io.EOF) {
		t.Fatalf("after the client's close: %v", err)
	}
	_ = h.nc.Close()

	for name, opts := range map[string]*websocket.DialOptions{
		"no subprotocol": {},
		"other origin":   {Subprotocols: []string{"rtsp.onvif.org"}, HTTPHeader: http.Header{"Origin": {"http://evil.example"}}},
	} {
		_, resp, err := websocket.Dial(ctx, "ws://"+addr+"/archive/cam", opts)
		if err == nil || resp == nil || resp.StatusCode/100 != 4 {
			t.Errorf("%s: %v %v", name, resp, err)
		}
		if resp != nil {
			_ = resp.Body.Close()
		}
	}
}

// TestTunnelNotWired: without Deps.Tunnels a tunnel request is answered
// as any unknown route.
func TestTunnelNotWired(t *testing.T) {
	addr := runTunnelServer(t, nil, nil)
	tu := rtsptest.DialTunnel(t, addr, "/archive/cam", "c00k1e")
	if tu.Status != 404 {
		t.Fatalf("status %d, want 404", tu.Status)
	}
}
