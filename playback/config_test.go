package playback_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/playback"
)

// TestConfigRemoteFields checks the defaults and bounds of the object
// store's settings (issue 13, item 4).
func TestConfigRemoteFields(t *testing.T) {
	d := playback.DefaultConfig()
	if d.RemoteReadTimeout != 10*time.Second || d.RemoteReadAhead != 2 || d.RemoteHorizon != 24*time.Hour {
		t.Errorf("defaults: read timeout %v, read ahead %d, horizon %v", d.RemoteReadTimeout, d.RemoteReadAhead, d.RemoteHorizon)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*playback.Config)
		key  string
	}{
		{"timeout too short", func(c *playback.Config) { c.RemoteReadTimeout = time.Millisecond }, "remote_read_timeout"},
		{"read ahead too deep", func(c *playback.Config) { c.RemoteReadAhead = 17 }, "remote_read_ahead"},
		{"horizon too short", func(c *playback.Config) { c.RemoteHorizon = time.Minute }, "remote_horizon"},
		{"horizon too long", func(c *playback.Config) { c.RemoteHorizon = 91 * 24 * time.Hour }, "remote_horizon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := playback.DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Validate: %v, want an error naming %s", err, tc.key)
			}
		})
	}
}
