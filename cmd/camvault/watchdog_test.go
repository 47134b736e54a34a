package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
)

// notifySocket listens where $NOTIFY_SOCKET points for this test, as systemd does.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// next returns the next datagram, failing after a minute without one.
func next(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 512)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// queued returns the datagrams already queued, without waiting (a deadline in the past would
// not even look).
func queued(t *testing.T, c *net.UnixConn) []string {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	buf := make([]byte, 512)
	for {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if rerr != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"30000000", "", 15 * time.Second},
		{"30000000", strconv.Itoa(os.Getpid()), 15 * time.Second},
		{"30000000", "1", 0}, // meant for another process
		{"0", "", 0},
		{"-5", "", 0},
		{"soon", "", 0},
	} {
		t.Setenv("WATCHDOG_USEC", tc.usec)
		t.Setenv("WATCHDOG_PID", tc.pid)
		if got := watchdogInterval(); got != tc.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, want %v", tc.usec, tc.pid, got, tc.want)
		}
	}
}

// TestWatchdogFeedsWhileItAnswers steps the loop through its readiness checks: a keep-alive
// after each answer, ready or not, with STATUS= and one log line when readiness changes;
// none while a check hangs, and none after close.
func TestWatchdogFeedsWhileItAnswers(t *testing.T) {
	sock := notifySocket(t)
	asked, answers := make(chan struct{}), make(chan error)
	var logs rtsptest.SyncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	wd := newWatchdog(time.Millisecond, func() error {
		select { // the loop asks once more after close; that check ends with ctx
		case asked <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case err := <-answers:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	done := make(chan error, 1)
	go func() { done <- wd.run(ctx) }()
	stuck := errors.New("not ready: storage not ready")
	for i, step := range []struct {
		answer error
		want   string
	}{
		{nil, "WATCHDOG=1"},
		{stuck, "WATCHDOG=1\nSTATUS=not ready: storage not ready"},
		{stuck, "WATCHDOG=1"},
		{nil, "WATCHDOG=1\nSTATUS=ready"},
		{nil, "WATCHDOG=1"},
	} {
		<-asked
		answers <- step.answer
		if got := next(t, sock); got != step.want {
			t.Fatalf("check %d: %q, want %q", i, got, step.want)
		}
	}
	<-asked // a check that hangs: nothing is sent while it does
	if got := queued(t, sock); len(got) != 0 {
		t.Fatalf("sent %q while the check hangs", got)
	}
	wd.close()
	answers <- nil // it answers after close: still nothing
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := queued(t, sock); len(got) != 0 {
		t.Errorf("sent %q after close", got)
	}
	out := logs.String()
	if strings.Count(out, "not ready; systemd keep-alives go on") != 1 || strings.Count(out, "ready again") != 1 ||
		!strings.Contains(out, "storage not ready") {
		t.Errorf("log:\n%s\nwant one not-ready line (with the reason) and one ready-again line", out)
	}
}

// TestWatchdogLeavesAHungCheck: the loop ends with its context even while a check hangs.
func TestWatchdogLeavesAHungCheck(t *testing.T) {
	notifySocket(t)
	asked, release := make(chan struct{}), make(chan struct{})
	defer close(release) // lets the check's goroutine end before the leak check
	wd := newWatchdog(time.Millisecond, func() error {
		close(asked)
		<-release
		return nil
	}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- wd.run(ctx) }()
	<-asked
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestServeWatchdog runs serve as systemd would with WatchdogSec: READY=1, then keep-alives
// while it serves, STOPPING=1 when it stops.
func TestServeWatchdog(t *testing.T) {
	sock := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "20000") // a keep-alive every 10 ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	rtp, rtcp := freeUDPPair(t)
	path := writeConfig(t, fmt.Sprintf("data_dir: %s\nhttp: {address: \"127.0.0.1:0\"}\nrtsp: {address: %q, udp_rtp_address: %q, udp_rtcp_address: %q}\n",
		filepath.Join(t.TempDir(), "data"), freeTCPAddr(t), rtp, rtcp))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr rtsptest.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "-config", path}, &stderr, &stderr) }()
	if got := next(t, sock); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1\n%s", got, stderr.String())
	}
	for range 3 {
		if got := next(t, sock); got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1\n%s", got, stderr.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	// No keep-alive follows STOPPING=1: systemd would re-arm its timer during the seal.
	got := queued(t, sock)
	if len(got) == 0 || got[len(got)-1] != "STOPPING=1" {
		t.Errorf("notifications after the stop %q, want STOPPING=1 last", got)
	}
	for _, n := range got[:max(len(got)-1, 0)] {
		if n != "WATCHDOG=1" {
			t.Errorf("notification %q before STOPPING=1", n)
		}
	}
	if !strings.Contains(stderr.String(), `msg="systemd watchdog" keepalive_every=10ms`) {
		t.Errorf("no watchdog log line:\n%s", stderr.String())
	}
}
