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
	// before the timeline is re-anchored in a new segment. Media time ahead
	// of the server clock is checked on every unit of every track, so
	// nothing is indexed later than the server clock plus ClockTolerance;
	// media time behind it is checked at reference keyframes. Defaults to 5s.
	ClockTolerance time.Duration
	// ClockRaceLimit is how many re-anchors for media time running ahead of
	// the server clock, or for timestamps jumping, a recording may need
	// within ClockRaceWindow; one more ends it with ErrClockRacing (a source
	// whose timestamps race, not a clock that stepped once). Defaults to 3.
	ClockRaceLimit int
	// ClockRaceWindow is the span over which ClockRaceLimit counts.
	// Defaults to 1m.
	ClockRaceWindow time.Duration
	// MaxFragmentBytes cuts a fragment early when its data (plus a small
	// per-unit overhead) grows past it. No real camera reaches it within
	// MaxFragmentDuration: 16 MiB in 5 s is 27 Mbit/s. Defaults to 16 MiB.
	MaxFragmentBytes int
	// MaxRecordingBuffer is one recording's memory budget, in bytes: its open
	// fragment plus the fragments it handed to storage that are not written
	// yet. A recording that would exceed it ends itself with ErrOverBudget
	// (a stalled disk, or a source sending media faster than media time),
	// after waiting up to BackpressureWait for storage if it may hold its
	// source back.
	// It must be at least MaxFragmentBytes; twice that lets one fragment be
	// written while the next fills. Defaults to twice MaxFragmentBytes
	// (32 MiB).
	MaxRecordingBuffer int
	// MaxBuffer is the memory budget, in bytes, of all recordings together,
	// counted as MaxRecordingBuffer is. A recording that would exceed it
	// ends itself with ErrOverBudget, and Open fails with
	// ErrMemoryExhausted while less than MaxRecordingBuffer of it is left.
	// A 3 Mbit/s camera with 1 s fragments reserves 512 to 768 KiB of it,
	// so the default serves 500 such cameras while bounding what hostile
	// publishers can pin. Defaults to 512 MiB.
	MaxBuffer int64
	// MaxUnitBytes bounds one access unit in the depacketizers. Defaults to
	// 8 MiB.
	MaxUnitBytes int
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
	BackpressureWait time.Duration
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
	if c.ClockRaceLimit <= 0 {
		c.ClockRaceLimit = 3
	}
	if c.ClockRaceWindow <= 0 {
		c.ClockRaceWindow = time.Minute
	}
	if c.MaxFragmentBytes <= 0 {
		c.MaxFragmentBytes = 16 << 20
	}
	if c.MaxRecordingBuffer <= 0 {
		c.MaxRecordingBuffer = 2 * c.MaxFragmentBytes
	}
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = 512 << 20
	}
	if c.MaxUnitBytes <= 0 {
		c.MaxUnitBytes = 8 << 20
	}
	if c.BackpressureWait == 0 {
		c.BackpressureWait = 3 * time.Second
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
	if c.MaxRecordingBuffer < c.MaxFragmentBytes {
		return fmt.Errorf("recorder: max recording buffer %d is below max fragment bytes %d",
			c.MaxRecordingBuffer, c.MaxFragmentBytes)
	}
	if c.MaxBuffer < int64(c.MaxRecordingBuffer) {
		return fmt.Errorf("recorder: max buffer %d is below max recording buffer %d",
			c.MaxBuffer, c.MaxRecordingBuffer)
	}
	return nil
}
