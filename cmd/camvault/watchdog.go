package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
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

// watchdog sends WATCHDOG=1 to systemd every interval while ready (the /readyz checks:
// listeners bound, index open and writable) says so. A camvault that is stuck, or whose
// index cannot be written, stops sending, and systemd restarts it after WatchdogSec. It logs
// when it starts withholding the keep-alives and when they resume, not at every tick.
func watchdog(interval time.Duration, ready func() error, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		healthy := true
		for {
			switch err := ready(); {
			case err == nil:
				notify("WATCHDOG=1")
				if !healthy {
					log.Info("ready again: watchdog keep-alives resume")
					healthy = true
				}
			case healthy:
				log.Warn("watchdog keep-alives withheld: systemd restarts camvault if this lasts", "err", err)
				healthy = false
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}
