package leaktest

import (
	"strings"
	"testing"
)

// TestGoroutinesParse checks that the dump is split into goroutines with their ids, the
// caller's first.
func TestGoroutinesParse(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); <-stop }()
	gs := goroutines()
	close(stop)
	<-done
	if len(gs) < 2 || !strings.Contains(gs[0].stack, "TestGoroutinesParse") {
		t.Fatalf("caller's goroutine not first: %q", gs[0].stack)
	}
	found := false
	for _, g := range gs {
		if g.id == "" || !strings.HasPrefix(g.stack, "goroutine "+g.id+" [") {
			t.Errorf("bad entry: id %q, stack %q", g.id, g.stack)
		}
		found = found || strings.Contains(g.stack, "leaktest.TestGoroutinesParse.func1")
	}
	if !found {
		t.Error("the blocked goroutine is missing")
	}
}

// TestWait checks that wait returns at once when nothing is counted, reports a goroutine
// that does not end, and waits for one that ends.
func TestWait(t *testing.T) {
	if left := wait(func(goroutine) bool { return false }, Timeout); len(left) != 0 {
		t.Fatalf("left %d", len(left))
	}
	stop := make(chan struct{})
	go func() { <-stop }()
	counted := func(g goroutine) bool { return strings.Contains(g.stack, "leaktest.TestWait.func") }
	if left := wait(counted, 0); len(left) != 1 {
		t.Fatalf("running goroutine reported %d times", len(left))
	}
	close(stop)
	if left := wait(counted, Timeout); len(left) != 0 {
		t.Fatalf("goroutine reported after it ended: %s", join(left))
	}
}
