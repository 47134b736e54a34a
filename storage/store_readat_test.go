package storage_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// TestReadAt reads byte ranges of a segment, open and sealed, and checks
// them against ReadFragment; ranges outside the file fail.
func TestReadAt(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "cam", start, 3)
	for _, sealed := range []bool{false, true} {
		info := waitInfo(t, s, "cam", start, 2)
		if sealed {
			seg.Seal()
			<-seg.Done()
			infos, err := s.Segments("cam", time.Time{}, time.Time{}, true)
			if err != nil || len(infos) != 1 {
				t.Fatalf("segments: %v %d", err, len(infos))
			}
			info = infos[0]
		}
		for _, f := range info.Fragments {
			whole, err := s.ReadFragment(info.File, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range [][2]int64{{0, f.Size}, {1, 7}, {f.Size - 3, 3}, {f.Size / 2, 0}} {
				p := make([]byte, r[1])
				n, err := s.ReadAt(info.File, p, f.Offset+r[0])
				if err != nil || n != len(p) || !bytes.Equal(p, whole[r[0]:r[0]+r[1]]) {
					t.Errorf("sealed %v: ReadAt(%d+%d, %d) = %d, %v; differs from the fragment", sealed, f.Offset, r[0], r[1], n, err)
				}
			}
		}
		if n, err := s.ReadAt(info.File, make([]byte, 10), info.Bytes+1<<20); err == nil || n != 0 {
			t.Errorf("beyond the end: %d, %v; want 0 and an error", n, err)
		}
		if _, err := s.ReadAt(info.File, make([]byte, 1), -1); err == nil {
			t.Error("negative offset: no error")
		}
		if _, err := s.ReadAt("recordings/cam/../../index.db", make([]byte, 1), 0); err == nil {
			t.Error("a path that is no segment: no error")
		}
	}
	s.Close()
	if _, err := s.ReadAt(seg.Info(false).File, make([]byte, 1), 0); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("after Close: %v, want %v", err, storage.ErrClosed)
	}
}
