package main

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/recorder"
)

// recorderConfig is the recording section (feeds recorder.Config).
type recorderConfig struct {
	FragmentDuration    Duration `yaml:"fragment_duration"`
	MaxFragmentDuration Duration `yaml:"max_fragment_duration"`
	SegmentDuration     Duration `yaml:"segment_duration"`
	ClockTolerance      Duration `yaml:"clock_tolerance"`
	ClockRaceLimit      int      `yaml:"clock_race_limit"`
	ClockRaceWindow     Duration `yaml:"clock_race_window"`
	MaxUnitSize         Size     `yaml:"max_unit_size"`
	MaxParamSetSize     Size     `yaml:"max_param_set_size"`
	MaxFragmentSize     Size     `yaml:"max_fragment_size"`
	MaxCameraBuffer     Size     `yaml:"max_camera_buffer"`
	MaxBuffer           Size     `yaml:"max_buffer"`
	StorageRetry        Duration `yaml:"storage_retry"`
	BackpressureWait    Duration `yaml:"backpressure_wait"` // 0: never hold a source back
}

// defaultRecorderConfig returns the section's defaults: recorder's.
func defaultRecorderConfig() recorderConfig {
	return recorderConfig{
		FragmentDuration:    Duration(recorder.DefaultFragmentDuration),
		MaxFragmentDuration: Duration(recorder.DefaultMaxFragmentDuration),
		SegmentDuration:     Duration(recorder.DefaultSegmentDuration),
		ClockTolerance:      Duration(recorder.DefaultClockTolerance),
		ClockRaceLimit:      recorder.DefaultClockRaceLimit,
		ClockRaceWindow:     Duration(recorder.DefaultClockRaceWindow),
		MaxUnitSize:         recorder.DefaultMaxUnitBytes,
		MaxParamSetSize:     recorder.DefaultMaxParamSetBytes,
		MaxFragmentSize:     recorder.DefaultMaxFragmentBytes,
		MaxCameraBuffer:     recorder.DefaultMaxRecordingBuffer,
		MaxBuffer:           recorder.DefaultMaxBuffer,
		StorageRetry:        Duration(recorder.DefaultStorageRetry),
		BackpressureWait:    Duration(recorder.DefaultBackpressureWait),
	}
}

func (r *recorderConfig) validate(v *validator) {
	v.duration("recorder.fragment_duration", r.FragmentDuration, 10*time.Millisecond, time.Minute)
	v.duration("recorder.max_fragment_duration", r.MaxFragmentDuration, 10*time.Millisecond, time.Minute)
	v.notBelow("recorder.max_fragment_duration", r.MaxFragmentDuration, "recorder.fragment_duration", r.FragmentDuration)
	v.duration("recorder.segment_duration", r.SegmentDuration, 10*time.Millisecond, maxTimeout)
	v.notBelow("recorder.segment_duration", r.SegmentDuration, "recorder.fragment_duration", r.FragmentDuration)
	v.duration("recorder.clock_tolerance", r.ClockTolerance, minTimeout, time.Hour)
	v.size("recorder.max_unit_size", r.MaxUnitSize, 64<<10, 256<<20)
	v.size("recorder.max_param_set_size", r.MaxParamSetSize, 256, 64<<10)
	v.count("recorder.clock_race_limit", r.ClockRaceLimit, 1, 1000)
	v.duration("recorder.clock_race_window", r.ClockRaceWindow, time.Second, 24*time.Hour)
	v.size("recorder.max_fragment_size", r.MaxFragmentSize, 64<<10, 1<<30)
	v.atMost("recorder.max_unit_size", r.MaxUnitSize, "recorder.max_fragment_size", r.MaxFragmentSize)
	v.size("recorder.max_camera_buffer", r.MaxCameraBuffer, 64<<10, 4<<30)
	v.atMost("recorder.max_fragment_size", r.MaxFragmentSize, "recorder.max_camera_buffer", r.MaxCameraBuffer)
	v.size("recorder.max_buffer", r.MaxBuffer, 1<<20, 1<<40)
	v.atMost("recorder.max_camera_buffer", r.MaxCameraBuffer, "recorder.max_buffer", r.MaxBuffer)
	v.duration("recorder.storage_retry", r.StorageRetry, minTimeout, time.Hour)
	v.duration("recorder.backpressure_wait", r.BackpressureWait, 0, time.Minute)
}

// recorderConfig returns the configuration of recorder.New.
func (c *fileConfig) recorderConfig(log *slog.Logger) recorder.Config {
	r := c.Recorder
	wait := time.Duration(r.BackpressureWait)
	if wait == 0 {
		wait = -1 // the file's 0s never waits; recorder's zero value means its default
	}
	return recorder.Config{FragmentDuration: time.Duration(r.FragmentDuration),
		MaxFragmentDuration: time.Duration(r.MaxFragmentDuration), SegmentDuration: time.Duration(r.SegmentDuration),
		ClockTolerance: time.Duration(r.ClockTolerance), ClockRaceLimit: r.ClockRaceLimit,
		ClockRaceWindow: time.Duration(r.ClockRaceWindow), MaxFragmentBytes: int(r.MaxFragmentSize),
		MaxRecordingBuffer: int(r.MaxCameraBuffer), MaxBuffer: int64(r.MaxBuffer),
		MaxUnitBytes: int(r.MaxUnitSize), MaxParamSetBytes: int(r.MaxParamSetSize), StorageRetry: time.Duration(r.StorageRetry), BackpressureWait: wait,
		Logger: log}
}
