package auth_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/settings"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newTestLimiter(t *testing.T, cfg auth.LimiterConfig) (*auth.Limiter, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	l, err := auth.NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, &buf
}

// TestLimiterDelays walks one address through the defaults: five free
// failures, then 1s, 2s, 4s ... capped at 1m, and forgiveness after a
// quiet minute.
func TestLimiterDelays(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(t, auth.LimiterConfig{})
	peer, other := netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("198.51.100.8")
	now := t0
	for i, want := range []time.Duration{0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		if got := l.Fail(peer, now); got != want {
			t.Fatalf("failure %d: delay %v, want %v", i+1, got, want)
		}
		if got := l.Wait(peer, now); got != want {
			t.Fatalf("failure %d: Wait %v, want %v", i+1, got, want)
		}
		now = now.Add(time.Second)
	}
	if got := l.Wait(peer, now.Add(30*time.Second)); got != 29*time.Second {
		t.Errorf("Wait half-way = %v, want 29s", got)
	}
	if got := l.Wait(other, now); got != 0 {
		t.Errorf("another address waits %v", got)
	}
	// A quiet minute after the delay forgives the count.
	now = now.Add(2 * time.Minute)
	if got := l.Wait(peer, now); got != 0 {
		t.Errorf("Wait after the delay = %v", got)
	}
	if got := l.Fail(peer, now); got != 0 {
		t.Errorf("first failure after a quiet minute: delay %v", got)
	}
}

func TestLimiterIPv6Per64(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(t, auth.LimiterConfig{Threshold: 1})
	if got := l.Fail(netip.MustParseAddr("2001:db8:1:2::1"), t0); got != time.Second {
		t.Fatalf("delay %v", got)
	}
	if got := l.Wait(netip.MustParseAddr("2001:db8:1:2:ffff::9"), t0); got != time.Second {
		t.Errorf("same /64 waits %v, want 1s", got)
	}
	if got := l.Wait(netip.MustParseAddr("2001:db8:1:3::1"), t0); got != 0 {
		t.Errorf("other /64 waits %v", got)
	}
	if got := l.Wait(netip.MustParseAddr("::ffff:192.0.2.1"), t0); got != 0 {
		t.Errorf("mapped v4 waits %v", got)
	}
}

// TestLimiterLogs checks one summary line per address and LogInterval:
// the first failure at once, the rest aggregated by Fail or Flush.
func TestLimiterLogs(t *testing.T) {
	t.Parallel()
	l, buf := newTestLimiter(t, auth.LimiterConfig{})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	now := t0
	for range 10 {
		l.Fail(a, now)
		l.Fail(b, now)
		now = now.Add(time.Second)
	}
	want := "level=WARN msg=\"authentication failures\" peer=192.0.2.1 failures=1 dur=0s\n" +
		"level=WARN msg=\"authentication failures\" peer=2001:db8::/64 failures=1 dur=0s\n"
	if buf.String() != want {
		t.Fatalf("after 10 failures each:\n%s\nwant\n%s", buf, want)
	}
	buf.Reset()
	if n := l.Flush(now); n != 0 || buf.Len() != 0 {
		t.Fatalf("Flush within the interval wrote %d lines: %s", n, buf)
	}
	if n := l.Flush(t0.Add(time.Minute)); n != 2 {
		t.Fatalf("Flush after the interval wrote %d lines: %s", n, buf)
	}
	if !strings.Contains(buf.String(), "peer=192.0.2.1 failures=9 dur=") {
		t.Errorf("summary lacks the nine aggregated failures:\n%s", buf)
	}
	buf.Reset()
	if n := l.Flush(t0.Add(2 * time.Minute)); n != 0 {
		t.Errorf("nothing new, yet Flush wrote %d lines: %s", n, buf)
	}
	// Idle addresses are forgotten by Flush: a new failure starts over.
	l.Flush(t0.Add(time.Hour))
	if got := l.Fail(a, t0.Add(time.Hour)); got != 0 {
		t.Errorf("forgotten address got delay %v", got)
	}
}

// TestLimiterBounded checks that the table never exceeds MaxAddresses,
// that idle entries go first, then the oldest, and that an evicted
// address's pending failures are logged, not lost.
func TestLimiterBounded(t *testing.T) {
	t.Parallel()
	l, buf := newTestLimiter(t, auth.LimiterConfig{MaxAddresses: 2, Threshold: 100})
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	l.Fail(a, at(0))           // logged at once
	l.Fail(a, at(time.Second)) // pending
	l.Fail(b, at(2*time.Second))
	buf.Reset()
	l.Fail(c, at(3*time.Second)) // full, nothing idle: evicts a, the oldest, logging its pending failure
	want := "level=WARN msg=\"authentication failures\" peer=192.0.2.1 failures=1 dur=0s\n" +
		"level=WARN msg=\"authentication failures\" peer=192.0.2.3 failures=1 dur=0s\n"
	if buf.String() != want {
		t.Fatalf("eviction logged\n%s\nwant\n%s", buf, want)
	}

	// An idle entry goes before the oldest busy one.
	l, buf = newTestLimiter(t, auth.LimiterConfig{MaxAddresses: 2, Threshold: 100})
	l.Fail(a, at(0))
	l.Fail(a, at(time.Second)) // a: the oldest, with a pending failure
	l.Fail(b, at(2*time.Second))
	buf.Reset()
	l.Fail(c, at(2*time.Minute)) // b is idle (logged, quiet for a window) and goes
	if strings.Contains(buf.String(), "192.0.2.1") {
		t.Errorf("busy a was evicted:\n%s", buf)
	}
	if n := l.Flush(at(3 * time.Minute)); n != 1 || !strings.Contains(buf.String(), "peer=192.0.2.1 failures=1") {
		t.Errorf("Flush wrote %d lines; a's pending failure should be among them:\n%s", n, buf)
	}
}

func TestLimiterConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  auth.LimiterConfig
		path string
	}{
		{"defaults", auth.LimiterConfig{}, ""},
		{"negative threshold", auth.LimiterConfig{Threshold: -1}, "failure_threshold"},
		{"short window", auth.LimiterConfig{Window: time.Millisecond}, "failure_window"},
		{"max below min", auth.LimiterConfig{DelayMin: 10 * time.Second, DelayMax: time.Second}, "failure_delay_max"},
		{"no addresses", auth.LimiterConfig{MaxAddresses: -5}, "failure_max_addresses"},
		{"log interval", auth.LimiterConfig{LogInterval: time.Millisecond}, "failure_log_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe, ok := errors.AsType[*settings.FieldError](err)
			if !ok || strings.Join(fe.Path, ".") != tc.path {
				t.Fatalf("Validate = %v, want a *FieldError at %s", err, tc.path)
			}
			if _, err := auth.NewLimiter(tc.cfg); err == nil {
				t.Fatal("NewLimiter accepted an invalid config")
			}
		})
	}
}

// TestLimiterConcurrent runs Fail, Wait and Flush from several goroutines
// (for -race) and checks that no failure is lost.
func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(t, auth.LimiterConfig{Threshold: 801})
	peer := netip.MustParseAddr("192.0.2.1")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Fail(peer, t0)
				l.Wait(peer, t0)
				l.Flush(t0)
			}
		})
	}
	wg.Wait()
	if got := l.Fail(peer, t0); got != time.Second {
		t.Fatalf("801st failure with a threshold of 801: delay %v, want 1s (failures lost?)", got)
	}
}
