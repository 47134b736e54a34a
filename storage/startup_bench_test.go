package storage

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeDataDirFiles writes cameras x days x 144 ten-minute segment files
// (small, real ones: 3 fragments each) under dir/recordings, without an
// index, and returns how many.
func writeDataDirFiles(tb testing.TB, dir string, cameras, days int) int {
	tb.Helper()
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for c := range cameras {
		cam := "cam" + string(rune('a'+c))
		for d := range days {
			for k := range 144 {
				start := base.Add(time.Duration(d)*24*time.Hour + time.Duration(k)*10*time.Minute)
				p := filepath.Join(dir, filepath.FromSlash(segmentPath(cam, start)))
				if k == 0 {
					if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
						tb.Fatal(err)
					}
				}
				if err := os.WriteFile(p, segmentBytes(tb, cam, start, 3), 0o640); err != nil {
					tb.Fatal(err)
				}
				n++
			}
		}
	}
	return n
}

// BenchmarkOpenDataDir measures start-up on a data directory of 20,160 real
// segment files (10 cameras x 14 days x 144): "index" is a normal start
// (index and files agree), "rebuild" a start without index.db (every file
// scanned and adopted), "check" a full Check. Run with -benchtime=Nx: each
// iteration is a whole start.
func BenchmarkOpenDataDir(b *testing.B) {
	dir := b.TempDir()
	files := writeDataDirFiles(b, dir, 10, 14)
	cfg := Config{Dir: dir, Sync: SyncNone}
	open := func(b *testing.B) StartupReport {
		s, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		rep := s.StartupReport()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		return rep
	}
	open(b) // builds the index the "index" and "check" runs start from
	b.Run("rebuild", func(b *testing.B) {
		for b.Loop() {
			if err := os.Remove(filepath.Join(dir, indexFile)); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
			if rep := open(b); !rep.Rebuilt || len(rep.Adopted)+rep.Omitted != files {
				b.Fatalf("rebuilt %d of %d files: %+v", len(rep.Adopted)+rep.Omitted, files, rep.Unreadable)
			}
		}
		b.ReportMetric(float64(files), "files")
	})
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			// A normal start: nothing to repair, adopt or remove.
			if rep := open(b); rep.Rebuilt || len(rep.Adopted)+len(rep.MissingFiles) != 0 {
				b.Fatalf("report %+v", rep)
			}
		}
		b.ReportMetric(float64(files), "files")
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			rep, err := Check(cfg, CheckOptions{})
			if err != nil || rep.Total() != 0 || rep.Files != files {
				b.Fatalf("check: %v, %d files, problems %v", err, rep.Files, rep.Problems)
			}
		}
		b.ReportMetric(float64(files), "files")
	})
}
