package fmp4_test

import (
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// BenchmarkAppendFragment writes one second of 3 Mbit/s H.264 (25 frames
// of 15 kB) with 48 kHz AAC into a buffer with room for it.
func BenchmarkAppendFragment(b *testing.B) {
	samples := make([]fmp4.Sample, 25)
	for i := range samples {
		samples[i] = fmp4.Sample{Duration: 3600, Size: 15000, Key: i == 0}
	}
	audio := make([]fmp4.Sample, 47)
	for i := range audio {
		audio[i] = fmp4.Sample{Duration: 1024, Size: 370, Key: true}
	}
	tracks := []fmp4.TrackFragment{
		{TrackID: 1, Samples: samples, Data: make([]byte, 25*15000)},
		{TrackID: 2, Samples: audio, Data: make([]byte, 47*370)},
	}
	dst := make([]byte, 0, fmp4.FragmentSize(tracks))
	wall := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(fmp4.FragmentSize(tracks)))
	for b.Loop() {
		dst = fmp4.AppendFragment(dst[:0], 1, 0, wall, tracks)
	}
}
