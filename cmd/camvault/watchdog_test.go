package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
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

// TestWatchdogWithholdsWhileNotReady steps the loop through its readiness checks: a keep-alive
// for each ready check and none for the others, one log line when they stop and one when
// they resume.
func TestWatchdogWithholdsWhileNotReady(t *testing.T) {
	sock := notifySocket(t)
	answers := make(chan error)
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		ready := func() error {
			select {
			case err := <-answers:
				return err
			case <-ctx.Done(): // asked again after the last answer
				return ctx.Err()
			}
		}
		done <- watchdog(time.Millisecond, ready, slog.New(slog.NewTextHandler(&logs, nil)))(ctx)
	}()
	stuck := errors.New("not ready: storage not ready")
	for _, err := range []error{nil, stuck, stuck, stuck, nil, nil} {
		answers <- err // the loop asks; the next ask shows that it is done with this one
	}
	answers <- stuck // the last: from here, nothing more is sent
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := queued(t, sock); strings.Join(got, ",") != "WATCHDOG=1,WATCHDOG=1,WATCHDOG=1" {
		t.Errorf("datagrams %q, want three WATCHDOG=1 (the three ready checks)", got)
	}
	out := logs.String()
	if strings.Count(out, "keep-alives withheld") != 2 || strings.Count(out, "keep-alives resume") != 1 ||
		!strings.Contains(out, "storage not ready") {
		t.Errorf("log:\n%s\nwant two withheld lines (with the reason) and one resume", out)
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
	// A keep-alive may cross STOPPING=1 (the loop stops with the rest); systemd ignores it.
	got := queued(t, sock)
	if !slices.Contains(got, "STOPPING=1") {
		t.Errorf("notifications after the stop %q, want STOPPING=1", got)
	}
	for _, n := range got {
		if n != "WATCHDOG=1" && n != "STOPPING=1" {
			t.Errorf("notification %q at the stop", n)
		}
	}
	if !strings.Contains(stderr.String(), `msg="systemd watchdog" keepalive_every=10ms`) {
		t.Errorf("no watchdog log line:\n%s", stderr.String())
	}
}
