package storage_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/camvault/camvault/storage"
)

// damageDataDir records a data directory and damages it, while camvault is
// stopped, in every way Check knows, once each. It returns the problem kinds
// with the file each one names.
func damageDataDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	before := recordDataDir(t, dir)
	a, b := before["a"], before["b"][0]
	want := map[string]string{}

	s := openStore(t, dir)
	// Index damage, written with PutSealed: a wrong offset in a seek table,
	// a wrong End.
	wrongOffset := a[1]
	wrongOffset.Fragments = slices.Clone(wrongOffset.Fragments)
	wrongOffset.Fragments[1].Offset += 7
	wrongEnd := a[2]
	wrongEnd.End = wrongEnd.End.Add(5 * time.Second)
	if err := s.PutSealed([]storage.SegmentInfo{wrongOffset, wrongEnd}); err != nil {
		t.Fatal(err)
	}
	want[storage.ProblemSeekTable], want[storage.ProblemEnd] = a[1].File, a[2].File
	// Two real segments that overlap in time.
	o := startupBase.Add(3 * time.Hour)
	sealSegment(t, writeSegment(t, s, "o", o, 3))
	sealSegment(t, writeSegment(t, s, "o", o.Add(time.Second), 3))
	want[storage.ProblemOverlap] = "recordings/o/2026-11-25/110000.005Z.mp4"
	// A segment left open, as by a crash: Close without Seal.
	writeSegment(t, s, "open", o, 2)
	want[storage.ProblemOpen] = "recordings/open/2026-11-25/110000.005Z.mp4"
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// An entry that does not decode.
	putRaw(t, dir, "a", startupBase.Add(30*time.Minute), []byte{9, 9, 9})
	want[storage.ProblemCorruptEntry] = ""

	// File damage: a truncated file (mid last fragment), a torn tail after
	// the last fragment, a missing file, an orphan, a stray.
	truncate(t, filepath.Join(dir, a[0].File), a[0].Bytes-10)
	want[storage.ProblemTruncated] = a[0].File
	appendTo(t, filepath.Join(dir, wrongEnd.File), "half a fragment")
	want[storage.ProblemTornTail] = a[2].File
	if err := os.Remove(filepath.Join(dir, b.File)); err != nil {
		t.Fatal(err)
	}
	want[storage.ProblemMissingFile] = b.File
	orphan, content := recordElsewhere(t, "a", startupBase.Add(24*time.Hour), 2)
	writeFile(t, dir, orphan.File, string(content))
	want[storage.ProblemOrphan] = orphan.File
	writeFile(t, dir, "recordings/a/notes.txt", "x")
	want[storage.ProblemStray] = "recordings/a/notes.txt"
	return want
}

// TestCheckFindsAndRepairs damages a data directory on purpose, checks that
// Check finds each problem, that Repair fixes the safe ones and deletes no
// file, and that a second Check finds only what Repair must leave.
func TestCheckFindsAndRepairs(t *testing.T) {
	dir := t.TempDir()
	want := damageDataDir(t, dir)
	cfg := storage.Config{Dir: dir, IndexTimeout: time.Second}
	rep, err := storage.Check(cfg, storage.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, p := range rep.Problems {
		if _, dup := found[p.Kind]; dup || p.Fixed {
			t.Errorf("problem %v: again, or fixed without Repair", p)
		}
		found[p.Kind] = p.File
	}
	if !maps.Equal(found, want) {
		t.Fatalf("found %v\nwant  %v\nproblems:\n%s", found, want, problemLines(rep))
	}
	if rep.Remaining() != len(want) || rep.Segments != 7 || rep.Files != 7 || rep.Bytes == 0 || rep.Fragments == 0 {
		t.Errorf("report %+v", rep)
	}
	filesBefore := listFiles(t, dir)

	rep, err = storage.Check(cfg, storage.CheckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if left := p.Kind == storage.ProblemOverlap || p.Kind == storage.ProblemStray; p.Fixed == left {
			t.Errorf("repair: %v", p)
		}
	}
	if rep.Fixed != len(want)-2 || rep.Remaining() != 2 {
		t.Errorf("repair fixed %d, %d remain:\n%s", rep.Fixed, rep.Remaining(), problemLines(rep))
	}
	if after := listFiles(t, dir); !slices.Equal(after, filesBefore) {
		t.Errorf("files changed by repair:\n%v\n%v", filesBefore, after)
	}

	rep, err = storage.Check(cfg, storage.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 2 || rep.Counts[storage.ProblemOverlap] != 1 || rep.Counts[storage.ProblemStray] != 1 {
		t.Errorf("after repair:\n%s", problemLines(rep))
	}
	// camvault starts on the repaired directory with nothing left to do.
	s := openStore(t, dir)
	defer s.Close()
	if r := s.StartupReport(); len(r.Repaired)+len(r.MissingFiles)+len(r.Adopted)+len(r.Torn)+len(r.Unreadable) != 0 {
		t.Errorf("start-up after repair: %+v", r)
	}
	if segs, _ := s.Segments("a", time.Time{}, time.Time{}, true); len(segs) != 4 || len(segs[0].Fragments) != 2 {
		t.Errorf("camera a after repair: %d segments %+v", len(segs), segs)
	}
}

func TestCheckRefuses(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	_, err := storage.Check(storage.Config{Dir: dir, IndexTimeout: 100 * time.Millisecond}, storage.CheckOptions{})
	s.Close()
	if err == nil || !strings.Contains(err.Error(), "stop camvault first") {
		t.Errorf("check of a running data directory: %v", err)
	}
	if _, err := storage.Check(storage.Config{Dir: t.TempDir()}, storage.CheckOptions{}); err == nil ||
		!strings.Contains(err.Error(), "no index.db") {
		t.Errorf("check without index: %v", err)
	}
}

func TestCheckWrongDataDir(t *testing.T) {
	dir := t.TempDir()
	recordDataDir(t, dir)
	writeFile(t, dir, idPath, "0123456789abcdef0123456789abcdef\n")
	cfg := storage.Config{Dir: dir}
	rep, err := storage.Check(cfg, storage.CheckOptions{})
	if err != nil || rep.Counts[storage.ProblemDataDirID] != 1 || rep.Total() != 1 {
		t.Fatalf("check: %v\n%s", err, problemLines(rep))
	}
	if _, err := storage.Check(cfg, storage.CheckOptions{Repair: true}); !errors.Is(err, storage.ErrWrongDataDir) {
		t.Errorf("repair: %v, want ErrWrongDataDir", err)
	}
}

// TestCheckCapsProblems: past MaxProblems the list stops and the counts go
// on; Repair removes every entry of a missing file, listed or not.
func TestCheckCapsProblems(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.PutSealed(entriesWithoutFiles(3, 1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cfg := storage.Config{Dir: dir}
	rep, err := storage.Check(cfg, storage.CheckOptions{MaxProblems: 100})
	if err != nil || len(rep.Problems) != 100 || rep.Counts[storage.ProblemMissingFile] != 3*144 || rep.Segments != 3*144 {
		t.Fatalf("check: %v, %d listed, counts %v", err, len(rep.Problems), rep.Counts)
	}
	rep, err = storage.Check(cfg, storage.CheckOptions{MaxProblems: 100, Repair: true})
	if err != nil || rep.Fixed != 3*144 || rep.Remaining() != 0 {
		t.Fatalf("repair: %v, fixed %d of %d", err, rep.Fixed, rep.Total())
	}
	if rep, err = storage.Check(cfg, storage.CheckOptions{}); err != nil || rep.Total() != 0 || rep.Segments != 0 {
		t.Fatalf("after repair: %v %+v", err, rep)
	}
}

// BenchmarkCheckLargeIndex checks an index of 50 cameras x 30 days x
// 10-minute segments (216,000 entries of one fragment each, built with
// PutSealed, no files): every entry is a missing file. Run with
// -benchtime=1x; it reports the time of a whole Check and the memory it
// allocated, bounded by the default cap of 1000 listed problems.
func BenchmarkCheckLargeIndex(b *testing.B) {
	dir := b.TempDir()
	s, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for c := range 50 {
		if err := s.PutSealed(entriesWithoutFiles(1, 30, end.Add(-30*24*time.Hour), fmt.Sprintf("cam%02d", c))); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		rep, err := storage.Check(storage.Config{Dir: dir}, storage.CheckOptions{})
		if err != nil || rep.Counts[storage.ProblemMissingFile] != 50*30*144 || len(rep.Problems) != 1000 {
			b.Fatalf("check: %v, %d listed, counts %v", err, len(rep.Problems), rep.Counts)
		}
	}
	b.ReportMetric(50*30*144, "entries")
}

// entriesWithoutFiles returns sealed 10-minute entries, 144 a day for days
// days from start, of cameras (named cams, or c0, c1...), each with one
// fragment and a file that does not exist.
func entriesWithoutFiles(cameras, days int, start time.Time, cams ...string) []storage.SegmentInfo {
	for i := len(cams); i < cameras; i++ {
		cams = append(cams, fmt.Sprintf("c%d", i))
	}
	var out []storage.SegmentInfo
	for _, cam := range cams {
		for k := range days * 144 {
			t := start.Add(time.Duration(k) * 10 * time.Minute)
			out = append(out, storage.SegmentInfo{Camera: cam, Start: t, End: t.Add(10 * time.Minute),
				File: "recordings/" + cam + "/" + t.Format("2006-01-02/150405.000Z") + ".mp4", Bytes: 1 << 20,
				State: storage.StateSealed, Tracks: []string{"avc1 1920x1080"},
				Fragments: []storage.Fragment{{Start: t, Duration: 10 * time.Minute, Offset: 1000, Size: 1<<20 - 1000, Key: true}}})
		}
	}
	return out
}

func problemLines(rep storage.CheckReport) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// putRaw writes a raw value into camera's segments bucket.
func putRaw(t *testing.T, dir, camera string, start time.Time, v []byte) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "index.db"), 0o640, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		k := make([]byte, 8)
		for i := range 8 {
			k[i] = byte(uint64(start.UnixNano()) >> (56 - 8*i))
		}
		return tx.Bucket([]byte("cameras")).Bucket([]byte(camera)).Bucket([]byte("segments")).Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// recordElsewhere records a sealed segment in a data directory of its own
// and returns it with its file's content: an orphan to copy in.
func recordElsewhere(t *testing.T, camera string, start time.Time, nfrag int) (storage.SegmentInfo, []byte) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir)
	sealSegment(t, writeSegment(t, s, camera, start, nfrag))
	segs, err := s.Segments(camera, time.Time{}, time.Time{}, true)
	s.Close()
	if err != nil || len(segs) != 1 {
		t.Fatal(err, segs)
	}
	b, err := os.ReadFile(filepath.Join(dir, segs[0].File))
	if err != nil {
		t.Fatal(err)
	}
	return segs[0], b
}

// listFiles lists every file under dir/recordings (not their content).
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "recordings"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
