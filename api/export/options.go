package export

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Options configures a Server. The yaml tags are the keys of camvault's export
// section (package settings).
type Options struct {
	// MaxDuration is the longest window one export may cover; a longer one
	// is refused with 400. Defaults to 24h.
	MaxDuration time.Duration `yaml:"max_duration"`
	// MaxSamples bounds the samples (all tracks) in one progressive MP4's
	// moov, and so the memory one export takes to plan (about 40 bytes a
	// sample); a window with more is refused with 400 and may be fetched as
	// fmp4, which holds one fragment at a time. Defaults to 2,000,000 (a
	// day of 25 fps video, or about 6 h of video with AAC audio).
	MaxSamples int `yaml:"max_samples"`
	// MaxConcurrent bounds the exports served at once, of both formats: a
	// progressive one holds its plan (up to about 40 bytes a sample) while
	// it is sent, a fragmented one a fragment while it streams. One more is
	// refused with 503 and Retry-After. Defaults to 8.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Logger receives one line per export that failed after its first byte
	// went out (the client then sees a cut response). Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Options.
const (
	DefaultMaxDuration = 24 * time.Hour
	DefaultMaxSamples  = 2_000_000
	// DefaultMaxConcurrent is 8 days of 25 fps video with audio planned at
	// once: about 1 GB at worst.
	DefaultMaxConcurrent = 8
)

// DefaultOptions returns the default of every setting with a yaml tag.
func DefaultOptions() Options {
	return Options{MaxDuration: DefaultMaxDuration, MaxSamples: DefaultMaxSamples, MaxConcurrent: DefaultMaxConcurrent}
}

func (o *Options) setDefaults() {
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the settings with a yaml tag, defaults applied, within the
// bounds an operator may set. Failures are *settings.FieldError named by the
// yaml keys.
func (o *Options) Validate() error {
	var v settings.Check
	v.Duration("max_duration", o.MaxDuration, time.Second, 31*24*time.Hour)
	v.Count("max_samples", o.MaxSamples, 1000, 50_000_000)
	v.Count("max_concurrent", o.MaxConcurrent, 1, 1024)
	return v.Err()
}
