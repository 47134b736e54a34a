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
	// Remote, when set, is the object store that holds segments uploaded by
	// this node and others (package tier's *Tier): a window is built from
	// the local index and from it, and fragments are played from whichever
	// holds them. Nil plays the local archive alone.
	Remote Remote `yaml:"-"`
	// RemoteReadTimeout bounds one request to Remote: a listing of an hour
	// run, an init or fragment read. A fragment not read in time is skipped.
	// Defaults to 10s.
	RemoteReadTimeout time.Duration `yaml:"remote_read_timeout"`
	// RemoteReadAhead is how many fragments of the object store a playing
	// session reads ahead of the one it sends, so that pacing does not wait
	// on the store's latency. Defaults to 2.
	RemoteReadAhead int `yaml:"remote_read_ahead"`
	// RemoteHorizon is how far before its first local segment (or before
	// now when there is none) a window without start= looks in the object
	// store; older objects are reached with start=. Defaults to 24h.
	RemoteHorizon time.Duration `yaml:"remote_horizon"`
	// Logger receives session events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultMaxSessions          = 256
	DefaultSenderReportInterval = 5 * time.Second
	DefaultMaxPayload           = media.DefaultMaxPayload
	DefaultRemoteReadTimeout    = 10 * time.Second
	DefaultRemoteReadAhead      = 2
	DefaultRemoteHorizon        = 24 * time.Hour
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
	if c.RemoteReadTimeout <= 0 {
		c.RemoteReadTimeout = DefaultRemoteReadTimeout
	}
	if c.RemoteReadAhead <= 0 {
		c.RemoteReadAhead = DefaultRemoteReadAhead
	}
	if c.RemoteHorizon <= 0 {
		c.RemoteHorizon = DefaultRemoteHorizon
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
	v.Duration("remote_read_timeout", c.RemoteReadTimeout, 100*time.Millisecond, 5*time.Minute)
	v.Count("remote_read_ahead", c.RemoteReadAhead, 1, 16)
	v.Duration("remote_horizon", c.RemoteHorizon, time.Hour, maxRemoteHorizon)
	return v.Err()
}
