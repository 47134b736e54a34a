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
	"errors"
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
)

// WeedVersion is the SeaweedFS module version scripts/test.sh builds.
const WeedVersion = "v0.0.0-20261109003541-7506e5f91cd6"

// Static credentials and names of every server.
const (
	AccessKey = "camvault-test"
	SecretKey = "camvault-test-secret"
	Region    = "us-east-1"
	Bucket    = "camvault"
)

// Bounds of the waits; long, as tests run on a busy machine.
const (
	readyTimeout = 90 * time.Second
	pollEvery    = 100 * time.Millisecond
	probeTimeout = 5 * time.Second
)

// CachePath returns where scripts/test.sh builds weed:
// $XDG_CACHE_HOME/camvault/weed-{WeedVersion}/weed (~/.cache/... by default).
func CachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "camvault", "weed-"+WeedVersion, "weed"), nil
}

// FindWeed returns the weed binary to run, or an error saying where it
// looked.
func FindWeed() (string, error) {
	if p := os.Getenv("CAMVAULT_WEED"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, nil
	}
	p, err := CachePath()
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("s3test: no weed: CAMVAULT_WEED unset, none on PATH, none at %s (scripts/test.sh builds it): %v", p, err)
}

// Server is one weed process serving S3.
type Server struct {
	// Endpoint is host:port of the S3 API (plain HTTP).
	Endpoint string

	t     testing.TB
	bin   string
	dir   string
	ports [10]int
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

// args is the weed command line: `weed mini` (master, volume, filer, S3
// and an admin server in one process), every port given (mini's defaults
// are fixed ports), bound to loopback, no Iceberg, Lance or WebDAV, no
// telemetry, small volumes and no pre-stop wait; logs go to stderr (glog
// would write files to /tmp). `weed server -filer -s3`
// needs fewer ports but twice as long to accept its first object (about
// 10 s against 5 s here); both hold writes for about 15 s after a restart
// (the master's warm-up of three 5-second pulses).
func (s *Server) args() []string {
	p := func(i int) string { return strconv.Itoa(s.ports[i]) }
	return []string{"-logtostderr", "mini", "-dir=" + filepath.Join(s.dir, "data"), "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1), "-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5), "-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
		"-admin.port=" + p(8), "-admin.port.grpc=" + p(9), "-admin.port.legacy=0",
		"-master.volumeSizeLimitMB=64", "-volume.max=32", "-volume.preStopSeconds=0"}
}

// Start starts the server (again, after Stop) on the same ports and data
// and waits until it stores an object. It fails t when it cannot.
func (s *Server) Start() {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o750); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey)
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

// waitReady polls until a probe object can be written and removed: the S3
// port answering is not enough, the volume server must have joined.
func (s *Server) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	c := s.client(1)
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, probeTimeout)
		last = s.probe(pctx, c)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("weed exited before it was ready: %w", last)
		case <-ctx.Done():
			return fmt.Errorf("weed not ready after %v: %w", readyTimeout, last)
		case <-time.After(pollEvery):
		}
	}
}

// probe writes and removes an object in a bucket of its own (Bucket may
// not exist yet).
func (s *Server) probe(ctx context.Context, c *minio.Client) error {
	const probeBucket = "s3test-probe"
	ok, err := c.BucketExists(ctx, probeBucket)
	if err == nil && !ok {
		err = c.MakeBucket(ctx, probeBucket, minio.MakeBucketOptions{Region: Region})
	}
	if err != nil {
		return err
	}
	if _, err := c.PutObject(ctx, probeBucket, "probe", strings.NewReader("ok"), 2, minio.PutObjectOptions{}); err != nil {
		return err
	}
	return c.RemoveObject(ctx, probeBucket, "probe", minio.RemoveObjectOptions{})
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
	for _, port := range s.ports {
		for _, pat := range []string{"/tmp/seaweedfs-*-%d.sock", "/tmp/seaweedfs-*-grpc-%d.sock"} {
			matches, _ := filepath.Glob(fmt.Sprintf(pat, port)) // the pattern is well formed
			for _, m := range matches {
				if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
					s.t.Logf("s3test: remove %s: %v", m, err)
				}
			}
		}
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
