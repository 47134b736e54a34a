// Package etcdtest runs a real etcd for tests: one member on loopback, its client and peer
// ports chosen free, its data in t.TempDir(). Tests stop, restart, kill and pause it to play
// an etcd outage, and put a Proxy between one client and etcd to play a partition of that
// client alone. It is imported by tests only.
//
// It runs the etcd binary on PATH (Debian's etcd-server package; scripts/test.sh installs
// it). Without one, Start skips the test, or fails it when CI is set.
package etcdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Timeouts of the harness. They are long, as tests run on busy machines; a healthy etcd
// answers within a second.
const (
	// ReadyTimeout bounds the wait for a started etcd to answer /health.
	ReadyTimeout = 30 * time.Second
	// StopTimeout bounds the wait for etcd to exit after SIGTERM; it is then killed.
	StopTimeout = 10 * time.Second
)

// pollInterval is how often /health is asked while waiting for etcd.
const pollInterval = 20 * time.Millisecond

// Raft timing of the member, shorter than etcd's defaults (100 ms, 1 s) so that it elects
// itself quickly at each start. The shortest lease etcd then grants is 1.5 election
// timeouts rounded up to a second: 1 s.
const (
	heartbeatMillis = "50"
	electionMillis  = "500"
)

// Server is one etcd process. Its methods are called from the test goroutine only.
type Server struct {
	t       testing.TB
	bin     string
	dir     string // data directory
	logPath string // etcd's stdout and stderr, appended across starts
	client  string // client URL
	peer    string // peer URL
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	paused  bool
}

// Start starts etcd with an empty data directory, waits until it answers and stops it when
// the test ends. It skips the test when no etcd binary is on PATH, or fails it when the CI
// environment variable is set.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("etcd is required in CI (apt-get install etcd-server): %v", err)
		}
		t.Skipf("etcd not found (apt-get install etcd-server): %v", err)
	}
	dir := t.TempDir()
	s := &Server{
		t:       t,
		bin:     bin,
		dir:     filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "etcd.log"),
		client:  "http://" + freeAddr(t),
		peer:    "http://" + freeAddr(t),
	}
	t.Cleanup(s.cleanup)
	s.Start()
	return s
}

// Endpoint returns the client URL, "http://127.0.0.1:PORT"; it stays the same across
// restarts.
func (s *Server) Endpoint() string { return s.client }

// Start starts etcd again on the same ports and data after Stop or Kill, and waits until it
// answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("etcdtest: Start of a running etcd")
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(s.bin,
		"--name", "etcdtest",
		"--data-dir", s.dir,
		"--listen-client-urls", s.client,
		"--advertise-client-urls", s.client,
		"--listen-peer-urls", s.peer,
		"--initial-advertise-peer-urls", s.peer,
		"--initial-cluster", "etcdtest="+s.peer,
		"--initial-cluster-state", "new",
		"--heartbeat-interval", heartbeatMillis,
		"--election-timeout", electionMillis,
		"--logger", "zap",
		"--log-level", "warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("etcdtest: start %s: %v", s.bin, err)
	}
	s.cmd, s.exited, s.paused = cmd, make(chan struct{}), false
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.exited) // the exit status is in the log
	if err := s.waitReady(); err != nil {
		s.t.Fatalf("etcdtest: %v\n%s", err, s.logTail())
	}
}

// waitReady polls /health until etcd reports itself healthy, exits or ReadyTimeout passes.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		resp, err := client.Get(s.client + "/health")
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body) // a short read fails the check below
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(body.String(), `"true"`) {
				return nil
			}
			err = fmt.Errorf("status %s: %s", resp.Status, body.String())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd did not answer within %v: %w", ReadyTimeout, err)
		}
		select {
		case <-s.exited:
			return errors.New("etcd exited while starting")
		case <-time.After(pollInterval):
		}
	}
}

// Stop sends SIGTERM (and SIGCONT to a paused etcd) and waits until etcd has exited; after
// StopTimeout it kills it and fails the test.
func (s *Server) Stop() {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
	if s.paused {
		s.signal(syscall.SIGCONT)
	}
	select {
	case <-s.exited:
	case <-time.After(StopTimeout):
		s.signal(syscall.SIGKILL)
		<-s.exited
		s.t.Errorf("etcdtest: etcd did not exit within %v of SIGTERM; killed", StopTimeout)
	}
	s.cmd = nil
}

// Kill sends SIGKILL and waits until etcd has exited.
func (s *Server) Kill() {
	s.t.Helper()
	s.signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// Pause stops etcd with SIGSTOP: its sockets stay open and nothing answers, as when its
// machine hangs. Resume continues it.
func (s *Server) Pause() {
	s.t.Helper()
	s.signal(syscall.SIGSTOP)
	s.paused = true
}

// Resume continues a paused etcd with SIGCONT.
func (s *Server) Resume() {
	s.t.Helper()
	s.signal(syscall.SIGCONT)
	s.paused = false
}

// signal sends sig to the running etcd.
func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatalf("etcdtest: %v to an etcd that is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("etcdtest: %v: %v", sig, err)
	}
}

// cleanup stops a running etcd when the test ends, and prints the end of its log if the
// test failed.
func (s *Server) cleanup() {
	if s.cmd != nil {
		s.Stop()
	}
	if s.t.Failed() {
		s.t.Logf("etcdtest: end of the etcd log:\n%s", s.logTail())
	}
}

// logTailBytes is how much of etcd's log a failure prints.
const logTailBytes = 4 << 10

// logTail returns the last logTailBytes of etcd's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-logTailBytes):])
}

// freeAddr returns a loopback address with a port that was free a moment ago. etcd takes
// URLs, not listeners, so the port is closed again before etcd binds it; nothing else on a
// test machine binds loopback ports it did not ask the kernel for.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// Proxy forwards TCP connections from a loopback port to an etcd, and can stop passing bytes
// in both directions (Block) while keeping every connection open, as a network partition of
// one client does: its requests and keepalives go unanswered, and etcd does not see the
// client go. Bytes read while blocked are held and passed on after Unblock, as TCP
// retransmits them once a partition heals. Its methods may be called from any goroutine.
type Proxy struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup // the accept loop and the copy loops

	mu      sync.Mutex
	blocked chan struct{} // non-nil while blocked; closed by Unblock
	conns   map[net.Conn]struct{}
	closed  bool
}

// NewProxy starts a proxy to the etcd at endpoint ("http://host:port") and closes it, and
// every connection through it, when the test ends.
func NewProxy(t testing.TB, endpoint string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, target: strings.TrimPrefix(endpoint, "http://"), conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Endpoint returns the proxy's client URL, "http://127.0.0.1:PORT".
func (p *Proxy) Endpoint() string { return "http://" + p.l.Addr().String() }

// Block stops passing bytes until Unblock.
func (p *Proxy) Block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blocked == nil {
		p.blocked = make(chan struct{})
	}
}

// Unblock passes bytes again, the held ones first.
func (p *Proxy) Unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blocked != nil {
		close(p.blocked)
		p.blocked = nil
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve dials etcd for the accepted connection c and copies both ways until either side
// ends.
func (p *Proxy) serve(c net.Conn) {
	defer p.untrack(c)
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection close, as when etcd is down
	}
	if !p.track(u) {
		return
	}
	defer p.untrack(u)
	done := make(chan struct{}, 2)
	p.wg.Go(func() { p.pipe(u, c); done <- struct{}{} })
	p.pipe(c, u)
	<-done
}

// pipe copies from src to dst, waiting while the proxy is blocked, and closes both when
// either fails.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitUnblocked()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitUnblocked returns once the proxy is not blocked.
func (p *Proxy) waitUnblocked() {
	for {
		p.mu.Lock()
		ch := p.blocked
		p.mu.Unlock()
		if ch == nil {
			return
		}
		<-ch
	}
}

// track records c for close; it closes c and reports false once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

// close unblocks the proxy, closes its listener and every connection, and waits for its
// goroutines.
func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.Unblock()
	p.l.Close()
	p.wg.Wait()
}

// ClientTimeout bounds the dial of NewClient.
const ClientTimeout = 10 * time.Second

// NewClient returns an etcd client of endpoint (a Server's or a Proxy's) that logs nothing,
// closed when the test ends: for tests to read and write keys themselves.
func NewClient(t testing.TB, endpoint string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: ClientTimeout, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
