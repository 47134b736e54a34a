package recorder

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/media"
)

// Config configures a Recorder. The yaml tags are the keys of camvault's
// recorder section (package settings).
type Config struct {
	// FragmentDuration is the target fragment length: a fragment is cut at
	// the first keyframe after it. Defaults to 1s.
	FragmentDuration time.Duration `yaml:"fragment_duration"`
	// MaxFragmentDuration cuts a fragment at any frame when no keyframe came
	// (long-GOP cameras); it bounds what a crash can lose. It must be at
	// least FragmentDuration. Defaults to 5s, whatever FragmentDuration is.
	MaxFragmentDuration time.Duration `yaml:"max_fragment_duration"`
	// SegmentDuration is the target segment length: a segment is sealed at
	// the first keyframe after it. Defaults to 10m.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// ClockTolerance is how far media time may drift from the server clock
	// (and how far RTCP sender report times may differ from it to be used)
	// before the timeline is re-anchored in a new segment. Media time ahead
	// of the server clock is checked on every unit of every track, so
	// nothing is indexed later than the server clock plus ClockTolerance;
	// media time behind it is checked at reference keyframes. Defaults to 5s.
	ClockTolerance time.Duration `yaml:"clock_tolerance"`
	// ClockRaceLimit is how many re-anchors for media time running ahead of
	// the server clock, or for timestamps jumping, a recording may need
	// within ClockRaceWindow; one more ends it with ErrClockRacing (a source
	// whose timestamps race, not a clock that stepped once). Defaults to 3.
	ClockRaceLimit int `yaml:"clock_race_limit"`
	// ClockRaceWindow is the span over which ClockRaceLimit counts.
	// Defaults to 1m.
	ClockRaceWindow time.Duration `yaml:"clock_race_window"`
	// MaxFragmentBytes cuts a fragment early when its data (plus a small
	// per-unit overhead) grows past it. No real camera reaches it within
	// MaxFragmentDuration: 16 MiB in 5 s is 27 Mbit/s. Defaults to 16 MiB.
	MaxFragmentBytes int `yaml:"max_fragment_size" unit:"bytes"`
	// MaxRecordingBuffer is one recording's memory budget, in bytes: its open
	// fragment plus the fragments it handed to storage that are not written
	// yet. A recording that would exceed it ends itself with ErrOverBudget
	// (a stalled disk, or a source sending media faster than media time),
	// after waiting up to BackpressureWait for storage if it may hold its
	// source back.
	// It must be at least MaxFragmentBytes; twice that lets one fragment be
	// written while the next fills. Defaults to twice MaxFragmentBytes
	// (32 MiB).
	MaxRecordingBuffer int `yaml:"max_camera_buffer" unit:"bytes"`
	// MaxBuffer is the memory budget, in bytes, of all recordings together,
	// counted as MaxRecordingBuffer is. A recording that would exceed it
	// ends itself with ErrOverBudget, and Open fails with
	// ErrMemoryExhausted while less than MaxRecordingBuffer of it is left.
	// A 3 Mbit/s camera with 1 s fragments reserves 512 to 768 KiB of it,
	// so the default serves 500 such cameras while bounding what hostile
	// publishers can pin. Defaults to 512 MiB.
	MaxBuffer int64 `yaml:"max_buffer" unit:"bytes"`
	// MaxUnitBytes bounds one access unit in the depacketizers. Defaults to
	// 8 MiB.
	MaxUnitBytes int `yaml:"max_unit_size" unit:"bytes"`
	// MaxParamSetBytes bounds one in-band H.264/H.265 parameter set (VPS,
	// SPS or PPS) in the depacketizers, in bytes; longer ones are ignored.
	// Defaults to media.DefaultMaxParamSetBytes (2 KiB).
	MaxParamSetBytes int `yaml:"max_param_set_size" unit:"bytes"`
	// BackpressureWait is how long one fragment of a recording opened with
	// OpenOptions.Backpressure (a TCP source) may wait for room in a full
	// storage write queue before it is dropped after all, and how long such
	// a recording short of memory budget may wait for storage to write the
	// fragments it queued before it ends with ErrOverBudget. While it waits,
	// WriteRTP blocks and its caller stops reading the source, so the
	// source's own buffer and TCP hold the media back instead of the
	// recorder dropping it. Media held back arrives late: a recording that
	// falls more than ClockTolerance behind the server clock starts a new
	// timeline (nothing is lost). Defaults to 3s; a negative value never
	// waits (every source is then treated like UDP).
	BackpressureWait time.Duration `yaml:"backpressure_wait"`
	// StorageRetry is how long a recording whose storage failed (disk full,
	// I/O error) drops media before it tries a new segment: with the first
	// fragment that starts at a keyframe and is complete after it. Defaults
	// to 5s.
	StorageRetry time.Duration `yaml:"storage_retry"`
	// Now returns the server's wall-clock time. Defaults to time.Now.
	Now func() time.Time `yaml:"-"`
	// Fence, if set, gives the fencing revision under which camera is
	// recorded (package cluster: the revision of this node's ownership) and
	// whether this node surely owns it now. Each segment is created under
	// it, and it is asked before each fragment: when it changes, the
	// segment is sealed and the next one is created under the new
	// revision. While ok is false, recording goes on under a negative
	// revision: the negated rev Fence returns with it when positive, else
	// the negated last revision (-1 if none), kept by the segment until
	// Fence is ok again. Such segments are "in doubt" and are published
	// only if the ownership is confirmed (tier's Verify). Nil records under
	// revision 0.
	Fence func(camera string) (rev int64, ok bool) `yaml:"-"`
	// Logger receives recording events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultFragmentDuration    = time.Second
	DefaultMaxFragmentDuration = 5 * time.Second
	DefaultSegmentDuration     = 10 * time.Minute
	DefaultClockTolerance      = 5 * time.Second
	DefaultClockRaceLimit      = 3
	DefaultClockRaceWindow     = time.Minute
	DefaultMaxFragmentBytes    = 16 << 20
	DefaultMaxRecordingBuffer  = 2 * DefaultMaxFragmentBytes
	DefaultMaxBuffer           = 512 << 20
	DefaultMaxUnitBytes        = media.DefaultMaxUnitBytes
	DefaultMaxParamSetBytes    = media.DefaultMaxParamSetBytes
	DefaultBackpressureWait    = 3 * time.Second
	DefaultStorageRetry        = 5 * time.Second
)

func (c *Config) setDefaults() {
	positive(&c.FragmentDuration, DefaultFragmentDuration)
	positive(&c.MaxFragmentDuration, DefaultMaxFragmentDuration)
	positive(&c.SegmentDuration, DefaultSegmentDuration)
	positive(&c.ClockTolerance, DefaultClockTolerance)
	positive(&c.ClockRaceLimit, DefaultClockRaceLimit)
	positive(&c.ClockRaceWindow, DefaultClockRaceWindow)
	positive(&c.MaxFragmentBytes, DefaultMaxFragmentBytes)
	positive(&c.MaxRecordingBuffer, 2*c.MaxFragmentBytes)
	positive(&c.MaxBuffer, DefaultMaxBuffer)
	positive(&c.MaxUnitBytes, DefaultMaxUnitBytes)
	positive(&c.MaxParamSetBytes, DefaultMaxParamSetBytes)
	if c.BackpressureWait == 0 {
		c.BackpressureWait = DefaultBackpressureWait
	}
	c.BackpressureWait = max(c.BackpressureWait, 0) // negative: never wait
	positive(&c.StorageRetry, DefaultStorageRetry)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// positive replaces a zero or negative *v with d.
func positive[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// DefaultConfig returns the default of every setting with a yaml tag.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	c.Now, c.Logger = nil, nil
	return c
}

// MaxBackpressureWait is the longest BackpressureWait Validate accepts.
const MaxBackpressureWait = time.Minute

// Validate checks a configuration with defaults applied: each setting
// within the bounds an operator may set and the relations between them.
// BackpressureWait must be 0 to 1m there (camvault's file spells "never
// wait" 0s and passes a negative wait to New, which makes it 0). Failures
// are *settings.FieldError named by the yaml keys. New fills the defaults
// and calls it.
func (c *Config) Validate() error {
	var v settings.Check
	v.Duration("fragment_duration", c.FragmentDuration, 10*time.Millisecond, time.Minute)
	v.Duration("max_fragment_duration", c.MaxFragmentDuration, 10*time.Millisecond, time.Minute)
	v.NotBelow("max_fragment_duration", c.MaxFragmentDuration, "fragment_duration", c.FragmentDuration)
	v.Duration("segment_duration", c.SegmentDuration, 10*time.Millisecond, settings.MaxTimeout)
	v.NotBelow("segment_duration", c.SegmentDuration, "fragment_duration", c.FragmentDuration)
	v.Duration("clock_tolerance", c.ClockTolerance, settings.MinTimeout, time.Hour)
	v.Bytes("max_unit_size", int64(c.MaxUnitBytes), 64<<10, 256<<20)
	v.Bytes("max_param_set_size", int64(c.MaxParamSetBytes), 256, 64<<10)
	v.Count("clock_race_limit", c.ClockRaceLimit, 1, 1000)
	v.Duration("clock_race_window", c.ClockRaceWindow, time.Second, settings.MaxTimeout)
	v.Bytes("max_fragment_size", int64(c.MaxFragmentBytes), 64<<10, 1<<30)
	v.AtMost("max_unit_size", int64(c.MaxUnitBytes), "max_fragment_size", int64(c.MaxFragmentBytes))
	v.Bytes("max_camera_buffer", int64(c.MaxRecordingBuffer), 64<<10, 4<<30)
	v.AtMost("max_fragment_size", int64(c.MaxFragmentBytes), "max_camera_buffer", int64(c.MaxRecordingBuffer))
	v.Bytes("max_buffer", c.MaxBuffer, 1<<20, 1<<40)
	v.AtMost("max_camera_buffer", int64(c.MaxRecordingBuffer), "max_buffer", c.MaxBuffer)
	v.Duration("storage_retry", c.StorageRetry, settings.MinTimeout, time.Hour)
	v.Duration("backpressure_wait", c.BackpressureWait, 0, MaxBackpressureWait)
	return v.Err()
}
