package api

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/testcert"
)

// capped runs a Server on loopback with the given connection limits and returns it and its
// address; logs collect its log.
func capped(t *testing.T, max, perAddr int, logs io.Writer) (*Server, string) {
	t.Helper()
	return cappedConfig(t, Config{Address: "127.0.0.1:0", MaxConnections: max, MaxConnectionsPerAddress: perAddr,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
}

// cappedConfig is capped with any Config; it also checks that every slot is free once Run
// has returned.
func cappedConfig(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, Deps{Authority: a})
	if err != nil {
		t.Fatal(err)
	}
	// GET /test/busy keeps its connection in a request until the test ends.
	release := make(chan struct{})
	srv.mux.HandleFunc("GET /test/busy", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		waitCounts(t, srv, 0, 0)
	})
	addr := srv.Addr()
	if addr == nil {
		addr = srv.TLSAddr()
	}
	return srv, addr.String()
}

// entered receives a value each time GET /test/busy starts (capped); the tests do not run in
// parallel.
var entered = make(chan struct{})

// client is one raw HTTP/1.1 connection from a loopback address of its own choosing.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialFrom(t *testing.T, from, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// get sends GET /healthz and returns the status line, "" when the connection was closed.
func (c *client) get() string {
	c.t.Helper()
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c.c, "GET /healthz HTTP/1.1\r\nHost: camvault\r\n\r\n"); err != nil {
		return ""
	}
	status, err := c.r.ReadString('\n')
	if err != nil {
		return ""
	}
	for { // the header, then the body of its Content-Length
		line, err := c.r.ReadString('\n')
		if err != nil {
			return ""
		}
		if line == "\r\n" {
			break
		}
	}
	buf := make([]byte, len(`{"status":"ok"}`+"\n"))
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return ""
	}
	return strings.TrimSpace(status)
}

// ok sends GET /healthz and fails the test unless it gets 200.
func (c *client) ok(what string) {
	c.t.Helper()
	if s := c.get(); s != "HTTP/1.1 200 OK" {
		c.t.Fatalf("%s: %q, want 200", what, s)
	}
}

// closed says whether the server closes the connection (a read ends with EOF or a reset);
// a connection still open after 30 s fails the test.
func (c *client) closed() bool {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := c.r.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatal("the connection is still open after 30 s")
	}
	return err != nil
}

// busy sends GET /test/busy and returns once its handler runs: the connection is then in a
// request until the test ends.
func (c *client) busy() {
	c.t.Helper()
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c.c, "GET /test/busy HTTP/1.1\r\nHost: camvault\r\n\r\n"); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		c.t.Fatal("GET /test/busy did not start")
	}
}

func waitCounts(t *testing.T, srv *Server, open, waiting int) {
	t.Helper()
	rtsptest.WaitWithin(t, 30*time.Second, "connection counts", func() bool {
		o, w := srv.admit.counts()
		return o == open && w == waiting
	})
}

// TestConnectionLimitPerAddress: at the per-address limit the connection idle longest makes
// room; with every connection in a request, the new one is closed and logged; another address
// is not concerned.
func TestConnectionLimitPerAddress(t *testing.T) {
	var logs rtsptest.SyncBuffer
	srv, addr := capped(t, 10, 2, &logs)
	c1 := dialFrom(t, "127.0.0.1", addr)
	c1.ok("c1")
	waitCounts(t, srv, 1, 1) // c1 waits first, so it has waited longest
	c2 := dialFrom(t, "127.0.0.1", addr)
	c2.ok("c2")
	waitCounts(t, srv, 2, 2)
	c3 := dialFrom(t, "127.0.0.1", addr)
	c3.ok("third connection")
	if !c1.closed() {
		t.Fatal("the connection idle longest was not closed for the third")
	}
	c2.ok("the other idle connection")
	c2.busy()
	c3.busy()
	waitCounts(t, srv, 2, 0)
	c4 := dialFrom(t, "127.0.0.1", addr)
	if !c4.closed() {
		t.Fatal("a connection over the limit with every slot busy was served")
	}
	if !strings.Contains(logs.String(), "http connection refused") {
		t.Errorf("no log line for the refusal:\n%s", logs.String())
	}
	dialFrom(t, "127.0.0.2", addr).ok("another address")
}

// TestConnectionLimitGlobal: at the global limit a busy server refuses any address, and a
// waiting connection of any address makes room.
func TestConnectionLimitGlobal(t *testing.T) {
	srv, addr := capped(t, 2, 2, io.Discard)
	// A connection the client closes gives its slot back.
	gone := dialFrom(t, "127.0.0.9", addr)
	gone.ok("gone")
	gone.c.Close()
	waitCounts(t, srv, 0, 0)
	a, b := dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.3", addr)
	a.busy()
	b.ok("b")
	waitCounts(t, srv, 2, 1)
	c := dialFrom(t, "127.0.0.4", addr)
	c.ok("c")
	if !b.closed() {
		t.Fatal("the idle connection of another address did not make room")
	}
	c.busy()
	waitCounts(t, srv, 2, 0)
	if !dialFrom(t, "127.0.0.5", addr).closed() {
		t.Fatal("a connection over the global limit with every slot busy was served")
	}
}

// TestConnectionLimitSilentConnection: a connection that never sends a request waits from its
// accept, so it makes room before one that has just been served.
func TestConnectionLimitSilentConnection(t *testing.T) {
	srv, addr := capped(t, 10, 2, io.Discard)
	silent := dialFrom(t, "127.0.0.1", addr)
	waitCounts(t, srv, 1, 1)
	dialFrom(t, "127.0.0.1", addr).ok("served")
	waitCounts(t, srv, 2, 2)
	dialFrom(t, "127.0.0.1", addr).ok("third")
	if !silent.closed() {
		t.Fatal("the silent connection did not make room")
	}
}

// TestConnectionLimitTakesFromTheBusiestAddress: at the global limit the waiting connection
// closed is one of the address holding the most slots, not the one waiting longest.
func TestConnectionLimitTakesFromTheBusiestAddress(t *testing.T) {
	srv, addr := capped(t, 3, 3, io.Discard)
	lone := dialFrom(t, "127.0.0.2", addr)
	lone.ok("lone")
	waitCounts(t, srv, 1, 1)
	f1 := dialFrom(t, "127.0.0.3", addr)
	f1.ok("f1")
	waitCounts(t, srv, 2, 2)
	f2 := dialFrom(t, "127.0.0.3", addr)
	f2.ok("f2")
	waitCounts(t, srv, 3, 3)
	dialFrom(t, "127.0.0.4", addr).ok("new")
	if !f1.closed() {
		t.Fatal("the longest waiting connection of the address with two slots did not make room")
	}
	lone.ok("lone again")
}

// TestConnectionLimitTLS: HTTPS connections count and give their slots back like plain ones,
// failed handshakes and plain HTTP sent to the HTTPS port included.
func TestConnectionLimitTLS(t *testing.T) {
	cert := testcert.New(t, "localhost")
	srv, addr := cappedConfig(t, Config{TLSAddress: "127.0.0.1:0", MaxConnections: 2, MaxConnectionsPerAddress: 2,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, TLSOnly: true})
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	dialTLS := func() *client {
		c := dialFrom(t, "127.0.0.1", addr)
		tc := tls.Client(c.c, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
		c.c, c.r = tc, bufio.NewReader(tc)
		return c
	}
	busy := dialTLS()
	busy.busy()
	garbage := dialFrom(t, "127.0.0.1", addr)
	io.WriteString(garbage.c, "\x16\x03\x01\x00\x05hello")
	garbage.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(garbage.r); err != nil { // the alert, then EOF
		t.Fatalf("a failed handshake was not closed: %v", err)
	}
	plain := dialFrom(t, "127.0.0.1", addr)
	io.WriteString(plain.c, "GET /healthz HTTP/1.1\r\nHost: camvault\r\n\r\n")
	if s, _ := plain.r.ReadString('\n'); !strings.HasPrefix(s, "HTTP/1.0 400") {
		t.Errorf("plain HTTP to the HTTPS port: %q", s)
	}
	waitCounts(t, srv, 1, 0)
	second := dialTLS()
	second.busy()
	waitCounts(t, srv, 2, 0)
	if !dialTLS().closed() {
		t.Fatal("a third HTTPS connection with both slots busy was served")
	}
}

// TestClaimAfterEviction: a connection closed to make room after its request was read has no
// slot any more, so its request does not run.
func TestClaimAfterEviction(t *testing.T) {
	a := newAdmission(1, 1, time.Now, slog.New(slog.DiscardHandler))
	c1, p1 := net.Pipe()
	c2, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if !a.admit(c1) || !a.admit(c2) {
		t.Fatal("admit refused a waiting connection's replacement")
	}
	if a.claim(c1) {
		t.Error("the connection that made room still holds a slot")
	}
	if !a.claim(c2) || a.admit(c1) {
		t.Error("the claimed connection is not busy: a new one took its slot")
	}
	if !a.claim(nil) {
		t.Error("a request from outside the listeners (httptest) was refused")
	}
}
