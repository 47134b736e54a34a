package fmp4_test

import (
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

func TestNTPRoundTrip(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC),
		time.Date(2024, 3, 5, 10, 14, 58, 240e6, time.UTC),
		time.Date(2036, 2, 7, 6, 28, 15, 999999999, time.UTC),
	} {
		got := fmp4.NTPToTime(fmp4.NTPTime(ts))
		if !got.Equal(ts) {
			t.Errorf("%v -> %v", ts, got)
		}
	}
	// Every nanosecond survives the round trip, so reindex gives back the
	// exact times the index had.
	base := time.Date(2026, 11, 25, 13, 42, 56, 0, time.UTC)
	for ns := 0; ns < 1e9; ns += 9973 {
		for _, off := range []int{0, 1, 2} {
			ts := base.Add(time.Duration(ns + off))
			if got := fmp4.NTPToTime(fmp4.NTPTime(ts)); !got.Equal(ts) {
				t.Fatalf("%v -> %v", ts, got)
			}
		}
	}
	// RTSP.md ONVIF-16 example: NTP 3918622498.24 = Unix 1709633698.24.
	if got := fmp4.NTPTime(time.Unix(1709633698, 240e6)) >> 32; got != 3918622498 {
		t.Errorf("NTP seconds %d", got)
	}
}
