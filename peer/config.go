package peer

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Config bounds the peer endpoints and the reads of them. The yaml tags are the keys of
// camvault's cluster.peer section.
type Config struct {
	// RequestTimeout bounds one request to another node (a listing or a read), and the
	// writing of one answer. Defaults to 5s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// MaxSegments bounds the segments of one listing, both the ones a node answers and the
	// ones it accepts. Defaults to 10000.
	MaxSegments int `yaml:"max_segments"`
	// MaxListingBytes bounds the body of a listing a node accepts. Defaults to 32 MiB.
	MaxListingBytes int64 `yaml:"max_listing_bytes" unit:"bytes"`
	// MaxReadBytes bounds one ranged read (an init, or one fragment), both served and
	// accepted. Defaults to 64 MiB.
	MaxReadBytes int64 `yaml:"max_read_bytes" unit:"bytes"`
	// Logger receives refused requests (Debug) and failed answers. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultRequestTimeout  = 5 * time.Second
	DefaultMaxSegments     = 10000
	DefaultMaxListingBytes = 32 << 20
	DefaultMaxReadBytes    = 64 << 20
)

func (c *Config) setDefaults() {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxSegments <= 0 {
		c.MaxSegments = DefaultMaxSegments
	}
	if c.MaxListingBytes <= 0 {
		c.MaxListingBytes = DefaultMaxListingBytes
	}
	if c.MaxReadBytes <= 0 {
		c.MaxReadBytes = DefaultMaxReadBytes
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

// Validate checks the settings, defaults applied, within the bounds an operator may set.
// Failures are *settings.FieldError named by the yaml keys.
func (c *Config) Validate() error {
	var v settings.Check
	v.Duration("request_timeout", c.RequestTimeout, settings.MinTimeout, time.Hour)
	v.Count("max_segments", c.MaxSegments, 1, 1<<20)
	v.Bytes("max_listing_bytes", c.MaxListingBytes, 1<<10, 1<<30)
	v.Bytes("max_read_bytes", c.MaxReadBytes, 1<<10, 1<<30)
	return v.Err()
}
