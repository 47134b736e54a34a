package export

import (
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		d         time.Duration
		timescale uint32
		ticks     int64 // nsToTicks
		first     int64 // firstTickAtOrAfter
	}{
		{0, 90000, 0, 0},
		{time.Second, 90000, 90000, 90000},
		{40 * time.Millisecond, 90000, 3600, 3600},
		{21400 * time.Microsecond, 90000, 1926, 1926},
		{time.Nanosecond, 90000, 0, 1},
		{10 * time.Microsecond, 48000, 0, 1},
		{11 * time.Microsecond, 48000, 1, 1},
		{24 * time.Hour, 48000, 24 * 3600 * 48000, 24 * 3600 * 48000},
		{time.Second / 3, 1000, 333, 334},
	} {
		if got := nsToTicks(tc.d, tc.timescale); got != tc.ticks {
			t.Errorf("nsToTicks(%v, %d) = %d, want %d", tc.d, tc.timescale, got, tc.ticks)
		}
		got := firstTickAtOrAfter(tc.d, tc.timescale)
		if got != tc.first || ticksToNs(got, tc.timescale) < tc.d || (got > 0 && ticksToNs(got-1, tc.timescale) >= tc.d) {
			t.Errorf("firstTickAtOrAfter(%v, %d) = %d, want %d", tc.d, tc.timescale, got, tc.first)
		}
	}
}

func TestKeyAtOrBefore(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	frags := func(keys string) []storage.Fragment {
		var fs []storage.Fragment
		for i, k := range keys {
			fs = append(fs, storage.Fragment{Start: t0.Add(time.Duration(i) * time.Second), Duration: time.Second, Key: k == 'K'})
		}
		return fs
	}
	for _, tc := range []struct {
		name string
		keys string
		at   time.Duration
		want int
	}{
		{"at a key", "KKKK", 2 * time.Second, 2},
		{"inside a key fragment", "KKKK", 2500 * time.Millisecond, 2},
		{"after a non-key fragment", "KnnK", 2500 * time.Millisecond, 0},
		{"before the first", "KKK", -time.Second, 0},
		{"before the first, which is no key", "nnKK", -time.Second, 2},
		{"no key at all", "nnn", 2 * time.Second, 3},
		{"after the last", "KnK", time.Hour, 2},
		{"empty", "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyAtOrBefore(frags(tc.keys), t0.Add(tc.at)); got != tc.want {
				t.Errorf("keyAtOrBefore(%s, %v) = %d, want %d", tc.keys, tc.at, got, tc.want)
			}
		})
	}
}
