package main

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/ingest"
)

func TestValidatePull(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		modify func(p *ingest.PullConfig)
		err    string // substring; "" means valid
	}{
		{name: "defaults", modify: func(*ingest.PullConfig) {}},
		{name: "keepalive set", modify: func(p *ingest.PullConfig) { p.Client.KeepaliveInterval = 20 * time.Second }},
		{name: "backoff equal", modify: func(p *ingest.PullConfig) { p.BackoffMax = p.BackoffMin }},
		{name: "backoff max below min", modify: func(p *ingest.PullConfig) { p.BackoffMin, p.BackoffMax = time.Minute, time.Second },
			err: "pull.backoff_max: must be at least pull.backoff_min (1m), got 1s"},
		{name: "backoff min zero", modify: func(p *ingest.PullConfig) { p.BackoffMin = 0 }, err: "pull.backoff_min: must be between 100ms and 1h, got 0s"},
		{name: "dial timeout", modify: func(p *ingest.PullConfig) { p.Client.DialTimeout = 10 }, err: "pull.dial_timeout"},
		{name: "response timeout", modify: func(p *ingest.PullConfig) { p.Client.ResponseTimeout = 2 * day }, err: "pull.response_timeout"},
		{name: "keepalive too short", modify: func(p *ingest.PullConfig) { p.Client.KeepaliveInterval = time.Millisecond }, err: "pull.keepalive_interval"},
		{name: "receiver reports", modify: func(p *ingest.PullConfig) { p.Client.ReceiverReportInterval = time.Hour }, err: "pull.receiver_report_interval"},
		{name: "read buffer", modify: func(p *ingest.PullConfig) { p.Client.ReadBufferSize = 64 << 10 }, err: "pull.read_buffer: must be between 68KiB and 16MiB, got 64KiB"},
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
	c.Pull.BackoffMin, c.Pull.BackoffMax = 2*time.Second, time.Minute
	c.Pull.Client.KeepaliveInterval, c.Pull.Client.ReadBufferSize = 15*time.Second, 1<<20
	c.RTSP.MediaTimeout = 7 * time.Second
	pc := c.pullConfig(nil, nil, nil)
	if pc.BackoffMin != 2*time.Second || pc.BackoffMax != time.Minute || pc.Client.KeepaliveInterval != 15*time.Second ||
		pc.Client.ReadBufferSize != 1<<20 || pc.Client.MediaTimeout != 7*time.Second ||
		pc.Client.DialTimeout != 10*time.Second || pc.Client.ReceiverReportInterval != 5*time.Second {
		t.Errorf("pull config %+v", pc)
	}
}
