package storage

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestRetentionSkipsCorruptEntries: entries retention cannot trust are
// never deleted, nor their files, by the camera rules or under pressure.
func TestRetentionSkipsCorruptEntries(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sound := func(i int) SegmentInfo {
		start := t0.Add(time.Duration(i) * 10 * time.Minute)
		return SegmentInfo{Camera: "a", Start: start, End: start.Add(10 * time.Minute), File: segmentPath("a", start),
			Bytes: 1000, State: StateSealed, Fragments: []Fragment{{Start: start, Duration: 10 * time.Minute, Size: 1000}}}
	}
	corrupt := map[int]func(v []byte) []byte{
		1: func(v []byte) []byte { return v[:5] }, // truncated head
		2: func(v []byte) []byte { // a valid value naming the index file
			info, _ := decodeSegment("a", v)
			info.File = indexFile
			return encodeSegment(&info)
		},
		3: func(v []byte) []byte { // another camera's file
			info, _ := decodeSegment("a", v)
			info.File = segmentPath("b", info.Start)
			return encodeSegment(&info)
		},
		4: func(v []byte) []byte { // a value whose start is not its key
			info, _ := decodeSegment("a", v)
			info.Start = info.Start.Add(time.Second)
			return encodeSegment(&info)
		},
		5: func(v []byte) []byte { return append(v[:len(v)-1:len(v)-1], 0xff) }, // torn tail, head intact
	}
	for _, name := range []string{"max age", "min free"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir, Sync: SyncNone, FreeSpace: func() (int64, int64, error) { return 0, 1 << 40, nil }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var infos []SegmentInfo
			for i := range 7 {
				infos = append(infos, sound(i))
				p := filepath.Join(dir, filepath.FromSlash(infos[i].File))
				if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, make([]byte, 1000), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.PutSealed(infos); err != nil {
				t.Fatal(err)
			}
			err = s.db.Update(func(tx *bolt.Tx) error {
				segs := tx.Bucket(bucketCameras).Bucket([]byte("a")).Bucket(bucketSegments)
				for i, f := range corrupt {
					k := segKey(infos[i].Start)
					if err := segs.Put(k, f(slices.Clone(segs.Get(k)))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			r := Retention{Default: RetentionPolicy{MaxAge: time.Minute}}
			if name == "min free" {
				r = Retention{MinFreeBytes: 1 << 30} // unreachable: everything sound goes
			}
			s.SetRetention(r)
			rep, err := s.RunRetention(t0.Add(24*time.Hour), false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range rep.Deleted {
				got = append(got, d.File)
			}
			if want := []string{infos[0].File, infos[6].File}; !slices.Equal(got, want) {
				t.Errorf("deleted %q, want %q", got, want)
			}
			for i := 1; i <= 5; i++ {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(infos[i].File))); err != nil {
					t.Errorf("file of corrupt entry %d: %v", i, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, indexFile)); err != nil {
				t.Error(err)
			}
		})
	}
}
