package s3test

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the one server of a test binary that Shared hands out and
// Main stops.
var shared struct {
	mu  sync.Mutex
	s   *Server
	t   *sharedTB
	err error
}

// Shared returns the test binary's shared server, started by the first
// caller; tests that share it must not Stop it and should keep to their own
// key prefixes. It needs the package's TestMain to call Main, which stops
// it. A missing weed skips t, or fails it when CI is set, as New does.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s == nil && shared.err == nil {
		shared.s, shared.err = startShared()
	}
	if shared.err != nil {
		if os.Getenv("CI") != "" || shared.t == nil || !shared.t.skipped {
			t.Fatal(shared.err)
		}
		t.Skip(shared.err)
	}
	return shared.s
}

// Main runs the tests of m, stops the shared server if one was started and
// exits with the tests' code. Call it as the whole of TestMain.
func Main(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	if shared.t != nil {
		shared.t.cleanup()
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// startShared starts a server outside any test: its testing.TB is a
// sharedTB that turns Fatal and Skip into an error.
func startShared() (s *Server, err error) {
	dir, err := os.MkdirTemp("", "s3test-shared-")
	if err != nil {
		return nil, err
	}
	shared.t = &sharedTB{dir: dir}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(sharedExit); !ok {
				panic(r)
			}
			s, err = nil, shared.t.err
		}
	}()
	return New(shared.t), nil
}

// sharedTB is the testing.TB of the shared server: the embedded nil TB is
// never called (every method New and Server use is overridden).
type sharedTB struct {
	testing.TB
	dir      string
	err      error
	skipped  bool
	cleanups []func()
}

// sharedExit is what sharedTB's Fatal and Skip panic with.
type sharedExit struct{}

func (tb *sharedTB) Helper()                      {}
func (tb *sharedTB) TempDir() string              { return tb.dir }
func (tb *sharedTB) Cleanup(f func())             { tb.cleanups = append(tb.cleanups, f) }
func (tb *sharedTB) Failed() bool                 { return tb.err != nil }
func (tb *sharedTB) Logf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (tb *sharedTB) Fatal(a ...any)               { tb.err = fmt.Errorf("%s", fmt.Sprint(a...)); panic(sharedExit{}) }
func (tb *sharedTB) Fatalf(format string, a ...any) {
	tb.err = fmt.Errorf(format, a...)
	panic(sharedExit{})
}
func (tb *sharedTB) Skip(a ...any) {
	tb.err, tb.skipped = fmt.Errorf("%s", fmt.Sprint(a...)), true
	panic(sharedExit{})
}

// cleanup runs the cleanups, last first, and removes the directory.
func (tb *sharedTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	_ = os.RemoveAll(tb.dir) // a temporary directory; nothing to report to
}
