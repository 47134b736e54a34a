package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// watchdogInterval returns how often serve must tell systemd it is alive: half the watchdog
// timeout systemd gave this process (WATCHDOG_USEC, WatchdogSec= in the unit), or 0 when it
// gave none or gave it to another process (WATCHDOG_PID).
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// watchdog keeps systemd's watchdog fed while serve is alive. Every interval it runs the
// readiness check of /readyz (listeners bound, index open and writable: a bbolt write) and
// sends WATCHDOG=1 once the check answers, whatever it answers: a camvault that hangs (the
// check never returns) stops feeding it and systemd restarts it, but one that is merely not
// ready (a full or read-only disk) stays up, says why in systemd's STATUS= and the log, and
// keeps serving playback, the API and what it can still record; a restart would not help it.
type watchdog struct {
	every time.Duration
	ready func() error
	log   *slog.Logger

	mu      sync.Mutex // guards closed and failing, and orders the notifications
	closed  bool
	failing bool
}

func newWatchdog(every time.Duration, ready func() error, log *slog.Logger) *watchdog {
	return &watchdog{every: every, ready: ready, log: log}
}

// run is the watchdog's loop, until ctx is done. A check that hangs is left behind when ctx
// ends, so that it cannot hold up the shutdown.
func (w *watchdog) run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		answer := make(chan error, 1)
		go func() { answer <- w.ready() }()
		select {
		case <-ctx.Done():
			return nil
		case err := <-answer:
			w.feed(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// feed sends WATCHDOG=1 after a check that answered err, with STATUS= and a log line when
// readiness changed; nothing after close.
func (w *watchdog) feed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	state := "WATCHDOG=1"
	switch {
	case err != nil && !w.failing:
		w.log.Warn("not ready; systemd keep-alives go on while camvault answers", "err", err)
		state += "\nSTATUS=" + err.Error()
		w.failing = true
	case err == nil && w.failing:
		w.log.Info("ready again")
		state += "\nSTATUS=ready"
		w.failing = false
	}
	notify(state)
}

// close stops the keep-alives for good; serve calls it before STOPPING=1, as systemd would
// take a later WATCHDOG=1 to re-arm its timer while camvault seals its segments.
func (w *watchdog) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
