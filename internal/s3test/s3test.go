// Package s3test runs a real S3-compatible server for tests: SeaweedFS's
// weed, one process (`weed server -filer -s3`) on loopback with free ports,
// its data in a t.TempDir(), with static credentials and one bucket. Stop
// and Start stop and restart the same server on the same ports and data,
// for outage tests; t.Cleanup stops it for good. It is imported by tests
// only.
//
// Finding weed: the CAMVAULT_WEED environment variable, then weed on PATH,
// then CachePath (where scripts/test.sh builds it). Without one a test
// fails when CI is set and is skipped otherwise.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/camvault/camvault/internal/weed"
)

// WeedVersion is the SeaweedFS module version scripts/test.sh builds.
const WeedVersion = weed.Version

// Static credentials and names of every server.
const (
	AccessKey = "camvault-test"
	SecretKey = "camvault-test-secret"
	Region    = "us-east-1"
	Bucket    = "camvault"
)

// readyTimeout bounds the wait for a server to store an object; long, as
// tests run on a busy machine.
const readyTimeout = 90 * time.Second

// CachePath returns where scripts/test.sh builds weed (weed.CachePath).
func CachePath() (string, error) { return weed.CachePath() }

// FindWeed returns the weed binary to run (weed.Find), or an error saying
// where it looked.
func FindWeed() (string, error) {
	p, err := weed.Find()
	if err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	return p, nil
}

// Server is one weed process serving S3.
type Server struct {
	// Endpoint is host:port of the S3 API (plain HTTP).
	Endpoint string

	t     testing.TB
	bin   string
	dir   string
	ports weed.Ports
	log   *os.File

	// mu guards cmd and exited: the running process, if any.
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// New starts a server, waits until it stores objects and creates Bucket.
// A missing weed skips t, or fails it when CI is set.
func New(t testing.TB) *Server {
	t.Helper()
	bin, err := FindWeed()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for i := range s.ports {
		s.ports[i] = freePort(t)
	}
	s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports[6]))
	if s.log, err = os.Create(filepath.Join(s.dir, "weed.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cleanup)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := s.Client().MakeBucket(ctx, Bucket, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("s3test: make bucket: %v", err)
	}
	return s
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// args is the command line: weed.Config's `weed mini`, small volumes.
func (s *Server) args() []string {
	c := weed.Config{Dir: filepath.Join(s.dir, "data"), Ports: s.ports}
	return c.Args()
}

// Start starts the server (again, after Stop) on the same ports and data
// and waits until it stores an object. It fails t when it cannot.
func (s *Server) Start() {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o750); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Env = weed.Env(AccessKey, SecretKey)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("s3test: start weed: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status of a stopped server says nothing
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	began := time.Now()
	if err := s.waitReady(exited); err != nil {
		s.t.Fatalf("s3test: %v\nweed log tail:\n%s", err, s.logTail())
	}
	s.t.Logf("s3test: weed pid %d ready on %s after %v", cmd.Process.Pid, s.Endpoint, time.Since(began).Round(time.Millisecond))
}

// waitReady polls until a probe object can be written and removed
// (weed.WaitReady), in a bucket of its own: Bucket may not exist yet.
func (s *Server) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := weed.WaitReady(ctx, s.client(1), "s3test-probe", Region, exited); err != nil {
		return fmt.Errorf("after %v: %w", readyTimeout, err)
	}
	return nil
}

// Stop kills the server (SIGKILL: weed takes many seconds to stop on
// SIGTERM, and an outage is a crash to its clients) and waits for it to
// exit. Its data stays for Start. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill() // it may have exited already
	<-exited
}

// Client returns a client of the server with the static credentials.
func (s *Server) Client() *minio.Client { return s.client(0) }

// client returns a client that tries each request at most retries times
// (0: minio's default).
func (s *Server) client(retries int) *minio.Client {
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region:     Region,
		MaxRetries: retries,
	})
	if err != nil {
		panic(fmt.Sprintf("s3test: client of %s: %v", s.Endpoint, err)) // Endpoint is always host:port
	}
	return c
}

// cleanup stops the server and removes the unix sockets weed leaves in
// /tmp for its ports.
func (s *Server) cleanup() {
	s.Stop()
	if s.t.Failed() {
		s.t.Logf("weed log tail:\n%s", s.logTail())
	}
	s.log.Close()
	if err := weed.RemoveSockets(&s.ports); err != nil {
		s.t.Logf("s3test: %v", err)
	}
}

// logTail returns the last lines of weed's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.log.Name())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-60):], "\n")
}
