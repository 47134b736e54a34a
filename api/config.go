package api

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Config configures the HTTP server. The yaml tags are the keys of
// camvault's http section (package settings).
type Config struct {
	// Address is the plain HTTP listen address. Defaults to ":8080".
	Address string `yaml:"address"`
	// TLSAddress is the HTTPS listen address, served when TLS is set.
	// Defaults to ":8443".
	TLSAddress string `yaml:"tls_address"`
	// ReadHeaderTimeout bounds reading a request's header. Defaults to 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included. Defaults
	// to 30s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing one JSON or /metrics answer, and each
	// write of an export stream (a client that stops reading is dropped).
	// Defaults to 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long. Defaults
	// to 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's header. Defaults to 16 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes" unit:"bytes"`
	// MaxBodyBytes bounds a request's body; larger ones get 413. Defaults
	// to 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" unit:"bytes"`
	// MaxSpans caps the spans of one recordings answer; the answer says
	// when it was cut. Defaults to 100000.
	MaxSpans int `yaml:"max_spans"`
	// DefaultGapTolerance is the gap_tolerance of a recordings request
	// that sets none: gaps up to it join two spans. Defaults to 2s.
	DefaultGapTolerance time.Duration `yaml:"default_gap_tolerance"`
	// MaxConnections bounds the open HTTP connections, both listeners together; at the limit
	// a new one replaces the one that has waited longest for a request, or is closed when
	// every one has a request in progress. Defaults to 1024.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerAddress bounds the open connections of one client IP address, with
	// the same replacement rule. Defaults to 64.
	MaxConnectionsPerAddress int `yaml:"max_connections_per_address"`
	// ShutdownTimeout bounds the wait for running requests at shutdown;
	// connections still open then are closed. Defaults to 5s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxLiveViewers bounds the web page's live views (WebSockets of
	// /api/v1/cameras/{camera}/live.ws) of the whole process; more get 503.
	// They count towards live.max_viewers too, and not towards
	// MaxConnections once upgraded. Defaults to 256.
	MaxLiveViewers int `yaml:"max_live_viewers"`
	// LiveWriteTimeout bounds each write of a live view to its browser: a
	// browser that does not take a fragment for this long is disconnected
	// (logged). Defaults to 10s.
	LiveWriteTimeout time.Duration `yaml:"live_write_timeout"`
	// LivePeerDialTimeout bounds, in a cluster, the connection of a relayed live view to the
	// node that owns the camera (TCP, TLS and the WebSocket upgrade); a node that does not
	// answer in time is a 502 for the browser. Defaults to 5s.
	LivePeerDialTimeout time.Duration `yaml:"live_peer_dial_timeout"`
	// LivePeerIdleTimeout ends a relayed live view when the owner sends nothing for this
	// long (a node that froze or a network that dropped it); the page connects again.
	// Defaults to 10s.
	LivePeerIdleTimeout time.Duration `yaml:"live_peer_idle_timeout"`
	// LivePeerMaxMessageBytes bounds one message (an init segment, a frame's fragment) a
	// relayed live view takes from the owner; a longer one ends the view. Defaults to 16 MiB.
	LivePeerMaxMessageBytes int64 `yaml:"live_peer_max_message_bytes" unit:"bytes"`

	// TLS, when set, serves HTTPS on TLSAddress with it (camvault passes
	// the RTSPS certificate reloader's configuration).
	TLS *tls.Config `yaml:"-"`
	// TLSOnly serves no plain HTTP (with TLS set).
	TLSOnly bool `yaml:"-"`
	// Logger receives the server's events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultAddress           = ":8080"
	DefaultTLSAddress        = ":8443"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultMaxBodyBytes      = 64 << 10
	DefaultMaxSpans          = 100000
	DefaultGapTolerance      = 2 * time.Second
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultMaxConnections    = 1024
	DefaultMaxConnsPerAddr   = 64
	DefaultMaxLiveViewers    = 256
	DefaultLiveWriteTimeout  = 10 * time.Second
	DefaultLivePeerDial      = 5 * time.Second
	DefaultLivePeerIdle      = 10 * time.Second
	DefaultLivePeerMessage   = 16 << 20
	minLivePeerMessage       = 64 << 10
	maxLivePeerMessage       = 1 << 30
	maxMaxLiveViewers        = 1 << 16
	maxMaxConnections        = 1 << 20
	maxGapTolerance          = 24 * time.Hour
	minMaxHeaderBytes        = 1 << 10
	maxMaxHeaderBytes        = 1 << 20
	minMaxBodyBytes          = 1 << 10
	maxMaxBodyBytes          = 16 << 20
	maxMaxSpans              = 10000000
	maxShutdownTimeout       = 10 * time.Minute
)

// DefaultConfig returns the default of every setting with a yaml tag.
func DefaultConfig() Config {
	c := Config{}.withDefaults()
	c.Logger = nil
	return c
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	str := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	str(&c.Address, DefaultAddress)
	str(&c.TLSAddress, DefaultTLSAddress)
	dur(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	dur(&c.ReadTimeout, DefaultReadTimeout)
	dur(&c.WriteTimeout, DefaultWriteTimeout)
	dur(&c.IdleTimeout, DefaultIdleTimeout)
	dur(&c.DefaultGapTolerance, DefaultGapTolerance)
	dur(&c.ShutdownTimeout, DefaultShutdownTimeout)
	dur(&c.LiveWriteTimeout, DefaultLiveWriteTimeout)
	dur(&c.LivePeerDialTimeout, DefaultLivePeerDial)
	dur(&c.LivePeerIdleTimeout, DefaultLivePeerIdle)
	if c.LivePeerMaxMessageBytes == 0 {
		c.LivePeerMaxMessageBytes = DefaultLivePeerMessage
	}
	if c.MaxLiveViewers == 0 {
		c.MaxLiveViewers = DefaultMaxLiveViewers
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxSpans == 0 {
		c.MaxSpans = DefaultMaxSpans
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxConnectionsPerAddress == 0 {
		c.MaxConnectionsPerAddress = DefaultMaxConnsPerAddr
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set. Failures are *settings.FieldError named
// by the yaml keys.
func (c Config) Validate() error {
	c = c.withDefaults()
	var v settings.Check
	v.Address("address", c.Address)
	v.Address("tls_address", c.TLSAddress)
	v.Duration("read_header_timeout", c.ReadHeaderTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Duration("read_timeout", c.ReadTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Duration("write_timeout", c.WriteTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Duration("idle_timeout", c.IdleTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Bytes("max_header_bytes", int64(c.MaxHeaderBytes), minMaxHeaderBytes, maxMaxHeaderBytes)
	v.Bytes("max_body_bytes", c.MaxBodyBytes, minMaxBodyBytes, maxMaxBodyBytes)
	v.Count("max_spans", c.MaxSpans, 1, maxMaxSpans)
	v.Duration("default_gap_tolerance", c.DefaultGapTolerance, time.Millisecond, maxGapTolerance)
	v.Count("max_connections", c.MaxConnections, 1, maxMaxConnections)
	v.Count("max_connections_per_address", c.MaxConnectionsPerAddress, 1, maxMaxConnections)
	v.Duration("shutdown_timeout", c.ShutdownTimeout, settings.MinTimeout, maxShutdownTimeout)
	v.Count("max_live_viewers", c.MaxLiveViewers, 1, maxMaxLiveViewers)
	v.Duration("live_write_timeout", c.LiveWriteTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Duration("live_peer_dial_timeout", c.LivePeerDialTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Duration("live_peer_idle_timeout", c.LivePeerIdleTimeout, settings.MinTimeout, settings.MaxTimeout)
	v.Bytes("live_peer_max_message_bytes", c.LivePeerMaxMessageBytes, minLivePeerMessage, maxLivePeerMessage)
	return v.Err()
}
