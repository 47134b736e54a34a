package rtsptest

import (
	"testing"
	"time"
)

// Timeout bounds every wait of the package: a condition that does not hold by then fails the
// test. It is long, as a test must pass on a busy machine; it is no pacing.
const Timeout = 10 * time.Second

// pollInterval is how often WaitFor evaluates its condition.
const pollInterval = 2 * time.Millisecond

// WaitFor polls cond until it holds, failing t after Timeout. cond must be safe to call from
// the test goroutine while the code under test runs.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(pollInterval)
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
