package main

import (
	"strings"
	"testing"
	"time"
)

func TestValidatePull(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		modify func(p *pullConfig)
		err    string // substring; "" means valid
	}{
		{name: "defaults", modify: func(*pullConfig) {}},
		{name: "keepalive set", modify: func(p *pullConfig) { p.KeepaliveInterval = Duration(20 * time.Second) }},
		{name: "backoff equal", modify: func(p *pullConfig) { p.BackoffMax = p.BackoffMin }},
		{name: "backoff max below min", modify: func(p *pullConfig) { p.BackoffMin, p.BackoffMax = Duration(time.Minute), Duration(time.Second) },
			err: "pull.backoff_max: must be at least pull.backoff_min (1m), got 1s"},
		{name: "backoff min zero", modify: func(p *pullConfig) { p.BackoffMin = 0 }, err: "pull.backoff_min: must be between 100ms and 1h, got 0s"},
		{name: "dial timeout", modify: func(p *pullConfig) { p.DialTimeout = 10 }, err: "pull.dial_timeout"},
		{name: "response timeout", modify: func(p *pullConfig) { p.ResponseTimeout = Duration(2 * day) }, err: "pull.response_timeout"},
		{name: "keepalive too short", modify: func(p *pullConfig) { p.KeepaliveInterval = Duration(time.Millisecond) }, err: "pull.keepalive_interval"},
		{name: "receiver reports", modify: func(p *pullConfig) { p.ReceiverReportInterval = Duration(time.Hour) }, err: "pull.receiver_report_interval"},
		{name: "read buffer", modify: func(p *pullConfig) { p.ReadBuffer = 64 << 10 }, err: "pull.read_buffer: must be between 68KiB and 16MiB, got 64KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			tc.modify(&c.Pull)
			err := c.validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// TestPullConfigFromFile: the pull section reaches ingest.PullConfig.
func TestPullConfigFromFile(t *testing.T) {
	t.Parallel()
	c := defaultConfig()
	c.Pull.BackoffMin, c.Pull.BackoffMax = Duration(2*time.Second), Duration(time.Minute)
	c.Pull.KeepaliveInterval, c.Pull.ReadBuffer = Duration(15*time.Second), 1<<20
	c.RTSP.MediaTimeout = Duration(7 * time.Second)
	pc := c.pullConfig(nil, nil)
	if pc.BackoffMin != 2*time.Second || pc.BackoffMax != time.Minute || pc.Client.KeepaliveInterval != 15*time.Second ||
		pc.Client.ReadBufferSize != 1<<20 || pc.Client.MediaTimeout != 7*time.Second ||
		pc.Client.DialTimeout != 10*time.Second || pc.Client.ReceiverReportInterval != 5*time.Second {
		t.Errorf("pull config %+v", pc)
	}
}
