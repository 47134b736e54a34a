// Package leaktest checks that tests leave no goroutines behind (STYLE.md "Tests":
// real-socket tests end with a goroutine-leak check). A package whose tests open sockets
// calls Main (or Run) from its TestMain; a test that must prove its own goroutines ended
// calls Check. It is imported by tests only.
//
// Goroutines end a moment after what stopped them returned (a socket closed, a context
// cancelled), so all of them wait: they poll the goroutine stacks until the condition holds or
// Timeout passes, and only then fail, printing the stacks left.
package leaktest

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Timeout bounds the wait for goroutines to end. It is long, as tests must pass on a busy
// machine; a clean run waits only until the last goroutine is gone.
const Timeout = 10 * time.Second

// pollInterval is how often the stacks are read while waiting.
const pollInterval = 5 * time.Millisecond

// ignored are frames of goroutines the standard library starts once and keeps for the
// process's life.
var ignored = []string{
	"os/signal.signal_recv",
	"os/signal.loop",
}

// Main runs the tests of m as Run does and exits with its code. Call it as the whole of
// TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the tests of m, then waits until every goroutine that was not running before
// them has ended. It returns the tests' code, or 1 after printing the stacks of the
// goroutines still running after Timeout. A TestMain that must clean up after the tests
// calls it, cleans up and exits with its code.
func Run(m *testing.M) int {
	before := map[string]bool{}
	for _, g := range goroutines() {
		before[g.id] = true
	}
	code := m.Run()
	if code == 0 {
		if left := wait(func(g goroutine) bool { return !before[g.id] }, Timeout); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leaktest: %d goroutines still running %v after the tests:\n\n%s\n",
				len(left), Timeout, join(left))
			code = 1
		}
	}
	return code
}

// Check fails t when goroutines whose stack contains substr, e.g.
// "camvault/camvault/rtsp.(*", are still running after Timeout.
func Check(t testing.TB, substr string) {
	t.Helper()
	if left := wait(func(g goroutine) bool { return strings.Contains(g.stack, substr) }, Timeout); len(left) > 0 {
		t.Fatalf("%d goroutines matching %q still running after %v:\n\n%s", len(left), substr, Timeout, join(left))
	}
}

// goroutine is one goroutine of a runtime.Stack dump.
type goroutine struct {
	id    string // the number in "goroutine 7 [running]:"
	stack string // the whole entry
}

// wait polls until no goroutine other than the caller's is counted, and returns the counted
// ones left after timeout (none on success).
func wait(counted func(goroutine) bool, timeout time.Duration) []goroutine {
	deadline := time.Now().Add(timeout)
	for {
		var left []goroutine
		for _, g := range goroutines()[1:] { // the first is the caller's
			if counted(g) && !isIgnored(g) {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(pollInterval)
	}
}

// goroutines returns every goroutine, the caller's first.
func goroutines() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for entry := range bytes.SplitSeq(buf, []byte("\n\n")) {
		s := string(entry)
		id, _, _ := strings.Cut(strings.TrimPrefix(s, "goroutine "), " ")
		out = append(out, goroutine{id: id, stack: s})
	}
	return out
}

func isIgnored(g goroutine) bool {
	for _, f := range ignored {
		if strings.Contains(g.stack, f) {
			return true
		}
	}
	return false
}

func join(gs []goroutine) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.stack
	}
	return strings.Join(s, "\n\n")
}
