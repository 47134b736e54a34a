package recorder

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Recorder.
type Config struct {
	// FragmentDuration is the target fragment length: a fragment is cut at
	// the first keyframe after it. Defaults to 1s.
	FragmentDuration time.Duration
	// MaxFragmentDuration cuts a fragment at any frame when no keyframe came
	// (long-GOP cameras); it bounds what a crash can lose. Defaults to 5s.
	MaxFragmentDuration time.Duration
	// SegmentDuration is the target segment length: a segment is sealed at
	// the first keyframe after it. Defaults to 10m.
	SegmentDuration time.Duration
	// ClockTolerance is how far media time may drift from the server clock
	// (and how far RTCP sender report times may differ from it to be used)
	// before the timeline is re-anchored in a new segment. Defaults to 5s.
	ClockTolerance time.Duration
	// MaxFragmentBytes cuts a fragment early when its data grows past it.
	// Defaults to 64 MiB.
	MaxFragmentBytes int
	// MaxUnitBytes bounds one access unit in the depacketizers. Defaults to
	// 8 MiB.
	MaxUnitBytes int
	// StorageRetry is how long a recording whose storage failed (disk full,
	// I/O error) drops media before it tries a new segment: with the first
	// fragment that starts at a keyframe and is complete after it. Defaults
	// to 5s.
	StorageRetry time.Duration
	// Now returns the server's wall-clock time. Defaults to time.Now.
	Now func() time.Time
	// Logger receives recording events. Nil discards them.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.FragmentDuration <= 0 {
		c.FragmentDuration = time.Second
	}
	if c.MaxFragmentDuration <= 0 {
		c.MaxFragmentDuration = 5 * c.FragmentDuration
	}
	if c.SegmentDuration <= 0 {
		c.SegmentDuration = 10 * time.Minute
	}
	if c.ClockTolerance <= 0 {
		c.ClockTolerance = 5 * time.Second
	}
	if c.MaxFragmentBytes <= 0 {
		c.MaxFragmentBytes = 64 << 20
	}
	if c.MaxUnitBytes <= 0 {
		c.MaxUnitBytes = 8 << 20
	}
	if c.StorageRetry <= 0 {
		c.StorageRetry = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports settings that cannot work together.
func (c *Config) Validate() error {
	if c.MaxFragmentDuration < c.FragmentDuration {
		return fmt.Errorf("recorder: max fragment duration %v is below fragment duration %v",
			c.MaxFragmentDuration, c.FragmentDuration)
	}
	if c.SegmentDuration < c.FragmentDuration {
		return fmt.Errorf("recorder: segment duration %v is below fragment duration %v",
			c.SegmentDuration, c.FragmentDuration)
	}
	return nil
}
