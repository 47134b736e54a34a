package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

const (
	benchCameras = 50
	benchDays    = 30
	benchPerDay  = 24 * time.Hour / segLen // 144
)

// benchIndex opens a Store whose index holds benchCameras x benchDays of
// sealed 10-minute segments (one-fragment seek tables, no files) from
// retT0, and whose file system is never short of space.
func benchIndex(b *testing.B) *storage.Store {
	b.Helper()
	s, err := storage.Open(storage.Config{Dir: b.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second,
		FreeSpace: func() (int64, int64, error) { return 1 << 42, 1 << 43, nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for c := range benchCameras {
		cam := fmt.Sprintf("cam%02d", c)
		infos := make([]storage.SegmentInfo, 0, benchDays*benchPerDay)
		for i := range benchDays * int(benchPerDay) {
			infos = append(infos, synthSegment(cam, slot(i), 300<<20))
		}
		if err := s.PutSealed(infos); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkRetentionPass times full passes over 216,000 sealed segments
// (50 cameras x 30 days x 10 minutes) at the end of day 30: keep/* delete
// nothing (max age 31 days, a min age and a met 5% free-space floor; with
// max_bytes the pass also sums every camera's bytes; floor_unmet is the
// worst case, see there); delete_day deletes
// day 1 of every camera (7,200 segments in batches of 256), and puts them
// back untimed.
func BenchmarkRetentionPass(b *testing.B) {
	s := benchIndex(b)
	now := slot(benchDays * int(benchPerDay)).Add(segLen / 2)
	keep := storage.RetentionPolicy{MaxAge: 31 * 24 * time.Hour, MinAge: 24 * time.Hour}
	withBytes := keep
	withBytes.MaxBytes = 1 << 50
	young := storage.RetentionPolicy{MinAge: 31 * 24 * time.Hour}
	for _, bc := range []struct {
		name string
		ret  storage.Retention
	}{
		{"keep/max_age", storage.Retention{Default: keep, MinFreePercent: 5}},
		{"keep/max_bytes", storage.Retention{Default: withBytes, MinFreePercent: 5}},
		// The floor is not met and every segment is younger than min age:
		// the cross-camera merge visits all 216,000 entries.
		{"keep/floor_unmet", storage.Retention{Default: young, MinFreeBytes: 1 << 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s.SetRetention(bc.ret)
			b.ReportAllocs()
			for b.Loop() {
				rep, err := s.RunRetention(now, false)
				if err != nil || len(rep.Deleted) != 0 {
					b.Fatal(err, len(rep.Deleted))
				}
			}
		})
	}
	b.Run("delete_day", func(b *testing.B) {
		s.SetRetention(storage.Retention{Default: storage.RetentionPolicy{MaxAge: (benchDays - 1) * 24 * time.Hour}})
		b.ReportAllocs()
		for b.Loop() {
			rep, err := s.RunRetention(now, false)
			if err != nil || len(rep.Deleted) != benchCameras*int(benchPerDay) {
				b.Fatal(err, len(rep.Deleted))
			}
			b.StopTimer()
			restore := make([]storage.SegmentInfo, 0, len(rep.Deleted))
			for _, d := range rep.Deleted {
				restore = append(restore, synthSegment(d.Camera, d.Start, d.Bytes))
			}
			if err := s.PutSealed(restore); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}
