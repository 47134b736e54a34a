package storage_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

func TestReadyAndSizes(t *testing.T) {
	t.Parallel()
	s, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second,
		FreeSpace: func() (int64, int64, error) { return 123, 456, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second answer is the cached probe
		if err := s.Ready(); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
	if n, err := s.IndexSize(); err != nil || n <= 0 {
		t.Errorf("IndexSize %d, %v", n, err)
	}
	if free, total, err := s.DiskSpace(); err != nil || free != 123 || total != 456 {
		t.Errorf("DiskSpace %d %d %v", free, total, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Ready after Close: %v, want ErrClosed", err)
	}
	if _, err := s.IndexSize(); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("IndexSize after Close: %v", err)
	}
	if _, err := s.Spans("cam", time.Time{}, time.Time{}, 0, 0); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Spans after Close: %v", err)
	}
	if _, err := s.Holds(""); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Holds after Close: %v", err)
	}
	if _, err := s.AddHold(storage.StoredHold{Camera: "cam", From: spanT0, To: spanT0.Add(time.Hour)}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("AddHold after Close: %v", err)
	}
}

// TestWriteRate: the rate since Open is the bytes written over at most the
// time since Open.
func TestWriteRate(t *testing.T) {
	t.Parallel()
	began := time.Now()
	s := openStore(t, t.TempDir())
	defer s.Close()
	if r := s.WriteRate(); r != 0 {
		t.Errorf("rate %v before any write", r)
	}
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "cam", start, 5)
	seg.Seal()
	<-seg.Done()
	written := s.Counters("cam").BytesWritten
	r := s.WriteRate()
	if least := float64(written) / time.Since(began).Seconds(); r < least {
		t.Errorf("rate %.0f B/s, want at least %d B over %v = %.0f B/s", r, written, time.Since(began), least)
	}
}

// TestLostToCrash leaves a segment open with a torn tail, dates the file
// 3 s after its last whole fragment and reopens: repair counts the torn
// fragment and the time from that fragment's end to the file's mtime.
func TestLostToCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	writeSegment(t, s, "cam", start, 3)
	info := waitInfo(t, s, "cam", start, 2)
	if err := s.Close(); err != nil { // the segment stays open, as after a crash
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(info.File))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(fragmentBytes(4, 3*fragFrames*1024, fragFrames, info.End)[:100]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mtime := info.End.Add(3 * time.Second)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	infos, err := s.Segments("cam", time.Time{}, time.Time{}, false)
	if err != nil || len(infos) != 1 || infos[0].State != storage.StateSealed {
		t.Fatalf("after repair: %+v, %v", infos, err)
	}
	c := s.Counters("cam")
	if want := mtime.Sub(infos[0].End); c.LostToCrash != want || c.FragmentsLostToCrash != 1 {
		t.Errorf("lost %v and %d fragments, want %v (about 3s) and 1", c.LostToCrash, c.FragmentsLostToCrash, want)
	}
}
