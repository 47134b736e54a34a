package live

import (
	"context"
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Config configures the relay. The yaml tags are the keys of camvault's
// live section (package settings).
type Config struct {
	// GOPCacheBytes bounds the group of pictures kept per live camera for
	// instant start. A longer group is not cached: viewers joining then
	// wait for the next keyframe. Defaults to 8 MiB.
	GOPCacheBytes int `yaml:"gop_cache_bytes" unit:"bytes"`
	// ViewerQueueBytes bounds the packets waiting for one viewer; a viewer
	// whose queue is full skips to the next keyframe. At least
	// gop_cache_bytes, which a new viewer's queue starts with. Defaults to
	// 16 MiB (the packets are shared with other viewers, not copied).
	ViewerQueueBytes int `yaml:"viewer_queue_bytes" unit:"bytes"`
	// OriginalTimestamps sends a new viewer's cached group of pictures
	// with the camera's own RTP timestamps instead of retiming its frames
	// one tick apart (package comment): the viewer then plays as far behind
	// live as the keyframe was old, for good. For tools that re-encode at a
	// fixed frame rate and drop (or, ffmpeg -f null, complain about) frames
	// that share a timestamp. Defaults to false.
	OriginalTimestamps bool `yaml:"original_timestamps"`
	// BatchDelay is how long after a viewer's last send the packets that
	// do not end a video frame (its earlier packets, and audio between
	// frames) wait to go out with the frame's last packet, so that a frame
	// costs one socket write per viewer rather than one per packet. A
	// packet arriving later than this wakes the sender itself; viewers of
	// audio alone are never delayed. Defaults to 20ms.
	BatchDelay time.Duration `yaml:"batch_delay"`
	// MaxViewers bounds the playing live viewers of the whole process;
	// more get 503 at PLAY (SEC-03). Defaults to 1024.
	MaxViewers int `yaml:"max_viewers"`
	// WriteTimeout ends a viewer that has been skipping for this long
	// because it does not take the stream as fast as the camera sends it.
	// Defaults to 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// OnDemandTimeout is how long DESCRIBE of a camera that OnDemand
	// starts waits for its media description. Defaults to 10s.
	OnDemandTimeout time.Duration `yaml:"on_demand_timeout"`
	// OnDemand, if set, is asked at DESCRIBE of a camera that is not live:
	// it starts pulling the camera and reports true if it knows it
	// (ingest.Pull.Watch). release is called when the viewer leaves.
	OnDemand func(camera string) (release func(), ok bool) `yaml:"-"`
	// Moved, if set, is asked when a camera stops while viewers play it
	// over RTSP: where the camera is live now (a cluster moved it to
	// another node), as the rtsp:// URL of its live stream there. It may
	// wait for the answer until ctx ends (the viewer left); ok false means
	// nowhere. A viewer whose camera moved is sent there with a REDIRECT
	// request instead of an RTCP BYE.
	Moved func(ctx context.Context, camera string) (location string, ok bool) `yaml:"-"`
	// Logger receives viewer events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultGOPCacheBytes    = 8 << 20
	DefaultViewerQueueBytes = 16 << 20
	DefaultMaxViewers       = 1024
	DefaultBatchDelay       = 20 * time.Millisecond
	DefaultWriteTimeout     = 10 * time.Second
	DefaultOnDemandTimeout  = 10 * time.Second
)

func (c *Config) setDefaults() {
	if c.GOPCacheBytes <= 0 {
		c.GOPCacheBytes = DefaultGOPCacheBytes
	}
	if c.ViewerQueueBytes <= 0 {
		c.ViewerQueueBytes = max(DefaultViewerQueueBytes, c.GOPCacheBytes)
	}
	if c.BatchDelay <= 0 {
		c.BatchDelay = DefaultBatchDelay
	}
	if c.MaxViewers <= 0 {
		c.MaxViewers = DefaultMaxViewers
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.OnDemandTimeout <= 0 {
		c.OnDemandTimeout = DefaultOnDemandTimeout
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
	v.Bytes("gop_cache_bytes", int64(c.GOPCacheBytes), 64<<10, 256<<20)
	v.Bytes("viewer_queue_bytes", int64(c.ViewerQueueBytes), 64<<10, 1<<30)
	v.AtMost("gop_cache_bytes", int64(c.GOPCacheBytes), "viewer_queue_bytes", int64(c.ViewerQueueBytes))
	v.Duration("batch_delay", c.BatchDelay, time.Millisecond, time.Second)
	v.Count("max_viewers", c.MaxViewers, 1, 1<<16)
	v.Duration("write_timeout", c.WriteTimeout, time.Second, 10*time.Minute)
	v.Duration("on_demand_timeout", c.OnDemandTimeout, time.Second, 10*time.Minute)
	return v.Err()
}
