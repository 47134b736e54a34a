package rtsptest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine, as
// the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestWaitWithin checks that WaitWithin returns once the condition holds and fails, naming
// what it waited for, when the condition never holds.
func TestWaitWithin(t *testing.T) {
	t.Parallel()
	calls := 0
	WaitWithin(t, Timeout, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitWithin(f, 20*time.Millisecond, "nothing", func() bool { return false })
	}()
	<-done
	if !strings.Contains(f.msg, "waiting: nothing") {
		t.Errorf("failure %q does not name what it waited for", f.msg)
	}
}
