package rtsptest

import (
	"testing"
	"time"
)

// Timeout bounds every wait of the package: a condition that does not hold by then fails the
// test. It is long, as a test must pass on a busy machine; it is no pacing.
const Timeout = 10 * time.Second

// pollInterval and maxPollInterval bound how often WaitFor and WaitWithin evaluate their
// condition: first every pollInterval, then less often up to every maxPollInterval, so that a
// quick condition is seen at once and a slow one (a file to parse, a process to start) does
// not keep a core busy.
const (
	pollInterval    = 2 * time.Millisecond
	maxPollInterval = 50 * time.Millisecond
)

// WaitFor polls cond until it holds, failing t after Timeout. cond must be safe to call from
// the test goroutine while the code under test runs.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, Timeout, what, cond)
}

// WaitWithin is WaitFor with a timeout of its own, for waits on something slower than a
// loopback peer: a camvault process starting, ffmpeg publishing a fragment. cond may fail t
// itself (t.Fatal) when it sees that the condition can never hold.
func WaitWithin(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for interval := pollInterval; !cond(); interval = min(2*interval, maxPollInterval) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting: %s", timeout, what)
		}
		time.Sleep(interval)
	}
}

// Receive returns the next value of ch, failing t after Timeout.
func Receive[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Timeout):
		t.Fatalf("timed out waiting: %s", what)
		var zero T
		return zero
	}
}
