package recorder

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// TestConfigDefaults: a zero Config takes every exported default, and each default is a
// constant of its own, never derived from another field the caller set (the doc comments and
// camvault's configuration file state them as fixed values).
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.setDefaults()
	want := Config{
		FragmentDuration: DefaultFragmentDuration, MaxFragmentDuration: DefaultMaxFragmentDuration,
		SegmentDuration: DefaultSegmentDuration, ClockTolerance: DefaultClockTolerance,
		ClockRaceLimit: DefaultClockRaceLimit, ClockRaceWindow: DefaultClockRaceWindow,
		MaxFragmentBytes: DefaultMaxFragmentBytes, MaxRecordingBuffer: DefaultMaxRecordingBuffer,
		MaxBuffer: DefaultMaxBuffer, MaxUnitBytes: DefaultMaxUnitBytes, MaxParamSetBytes: DefaultMaxParamSetBytes,
		BackpressureWait: DefaultBackpressureWait, StorageRetry: DefaultStorageRetry,
	}
	c.Now, c.Logger = nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("zero Config defaults to\n%+v\nwant\n%+v", c, want)
	}
	if err := (&want).Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}

	c = Config{FragmentDuration: 2 * time.Second}
	c.setDefaults()
	if c.MaxFragmentDuration != DefaultMaxFragmentDuration {
		t.Errorf("with FragmentDuration 2s, MaxFragmentDuration defaults to %v, want %v", c.MaxFragmentDuration, DefaultMaxFragmentDuration)
	}
}

// TestNegativeBackpressureWaitIsZero: camvault passes backpressure_wait 0s as a negative wait
// (the zero value is the default); the recorder keeps it as never waiting, within Validate's
// 0..1m.
func TestNegativeBackpressureWaitIsZero(t *testing.T) {
	t.Parallel()
	c := Config{BackpressureWait: -1}
	c.setDefaults()
	if c.BackpressureWait != 0 {
		t.Errorf("wait %v, want 0", c.BackpressureWait)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestNewValidates: New fills the defaults and holds a Go caller to the operator's bounds, not
// only to the relations between the settings.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{FragmentDuration: time.Millisecond}, nil)
	var fe *settings.FieldError
	if !errors.As(err, &fe) || fe.Path[0] != "fragment_duration" {
		t.Errorf("New with a 1ms fragment: %v, want a fragment_duration FieldError", err)
	}
}
