package playback

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
)

// Config configures the playback server. The yaml tags are the keys of
// camvault's playback section (package settings).
type Config struct {
	// Store holds the archive. Required.
	Store *storage.Store `yaml:"-"`
	// MaxSessions bounds concurrent playing sessions; more get 503 at
	// DESCRIBE (SEC-03). Defaults to 256.
	MaxSessions int `yaml:"max_sessions"`
	// SenderReportInterval is how often an RTCP sender report goes out per
	// stream while playing (RTCP-05), after the one that goes with the first
	// packet of every PLAY. Defaults to 5s.
	SenderReportInterval time.Duration `yaml:"sender_report_interval"`
	// MaxPayload is the largest RTP payload in bytes (RTP-11). Defaults to
	// 1400.
	MaxPayload int `yaml:"max_payload" unit:"bytes"`
	// Logger receives session events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultMaxSessions          = 256
	DefaultSenderReportInterval = 5 * time.Second
	DefaultMaxPayload           = media.DefaultMaxPayload
)

func (c *Config) setDefaults() {
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.SenderReportInterval <= 0 {
		c.SenderReportInterval = DefaultSenderReportInterval
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// DefaultConfig returns the default of every setting with a yaml tag.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	c.Logger = nil
	return c
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set. Failures are *settings.FieldError named
// by the yaml keys.
func (c *Config) Validate() error {
	var v settings.Check
	v.Count("max_sessions", c.MaxSessions, 1, 1<<16)
	v.Duration("sender_report_interval", c.SenderReportInterval, time.Second, time.Minute)
	v.Bytes("max_payload", int64(c.MaxPayload), 256, 1460)
	return v.Err()
}
