package storage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// testInit returns ftyp+moov with one AAC track (ID 1, timescale 48000).
func testInit(t testing.TB) []byte {
	t.Helper()
	init := mp4.CreateEmptyInit()
	trak := init.AddEmptyTrack(48000, "audio", "und")
	if err := trak.SetAACDescriptor(aac.AAClc, 48000); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fragmentBytes encodes a one-track fragment of n 1024-sample frames whose
// presentation starts at wall.
func fragmentBytes(seq uint32, base uint64, n int, wall time.Time) []byte {
	samples := make([]fmp4.Sample, n)
	data := make([]byte, 0, n*10)
	for i := range samples {
		samples[i] = fmp4.Sample{Duration: 1024, Size: 10, Key: true}
		data = append(data, bytes.Repeat([]byte{byte(seq)}, 10)...)
	}
	tf := []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: base, Samples: samples, Data: data}}
	return fmp4.AppendFragment(nil, seq, 0, wall, tf)
}

func openStore(t *testing.T, dir string) *storage.Store {
	t.Helper()
	s, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const fragFrames = 47 // ~1.003 s of 48 kHz AAC

var fragDur = time.Duration(fragFrames*1024) * time.Second / 48000

// writeSegment records nfrag fragments and returns the segment.
func writeSegment(t *testing.T, s *storage.Store, cam string, start time.Time, nfrag int) *storage.Segment {
	t.Helper()
	return writeSegmentRev(t, s, cam, start, nfrag, 0)
}

// writeSegmentRev is writeSegment under fencing revision rev.
func writeSegmentRev(t *testing.T, s *storage.Store, cam string, start time.Time, nfrag int, rev int64) *storage.Segment {
	t.Helper()
	seg, err := s.CreateRevision(cam, start, 1, rev, testInit(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range nfrag {
		wall := start.Add(time.Duration(i) * fragDur)
		buf := s.Buffer()
		*buf = append(*buf, fragmentBytes(uint32(i+1), uint64(i*fragFrames*1024), fragFrames, wall)...)
		if err := seg.Append(storage.FragmentInfo{Start: wall, Duration: fragDur, Key: true}, buf); err != nil {
			t.Fatal(err)
		}
	}
	return seg
}

func TestSegmentLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 10, 15, 0, 123456789, time.UTC)
	seg := writeSegment(t, s, "cam1", start, 5)
	seg.Seal()
	<-seg.Done()
	if err := seg.Err(); err != nil {
		t.Fatal(err)
	}
	infos, err := s.Segments("cam1", start.Add(-time.Hour), time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 {
		t.Fatalf("got %d segments, want 1", len(infos))
	}
	got := infos[0]
	if got.State != storage.StateSealed || !got.Start.Equal(start) || len(got.Fragments) != 5 {
		t.Fatalf("segment = %+v", got)
	}
	wantEnd := start.Add(5 * fragDur)
	if d := got.End.Sub(wantEnd); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("end %v, want %v", got.End, wantEnd)
	}
	if got.File != "recordings/cam1/2026-11-25/101500.123Z.mp4" {
		t.Errorf("file %q", got.File)
	}
	st, err := os.Stat(filepath.Join(dir, got.File))
	if err != nil || st.Size() != got.Bytes {
		t.Errorf("file size %v (%v), index says %d", st.Size(), err, got.Bytes)
	}
	for i, f := range got.Fragments {
		want := start.Add(time.Duration(i) * fragDur)
		if d := f.Start.Sub(want); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("fragment %d start %v want %v", i, f.Start, want)
		}
		if i > 0 && f.Offset != got.Fragments[i-1].Offset+got.Fragments[i-1].Size {
			t.Errorf("fragment %d offset %d not contiguous", i, f.Offset)
		}
	}
	if _, err := s.Segments("cam1", start.Add(time.Hour), time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsQueryWindow(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		seg := writeSegment(t, s, "cam", base.Add(time.Duration(i)*time.Minute), 2)
		seg.Seal()
		<-seg.Done()
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"all", base.Add(-time.Hour), time.Time{}, 3},
		{"inside first", base.Add(time.Second), base.Add(2 * time.Second), 1},
		{"gap between", base.Add(30 * time.Second), base.Add(40 * time.Second), 0},
		{"second onward", base.Add(time.Minute), time.Time{}, 2},
		{"after all", base.Add(time.Hour), time.Time{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Segments("cam", tc.from, tc.to, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("got %d segments, want %d", len(got), tc.want)
			}
		})
	}
}

// TestRepairTornFragment truncates an open segment at every offset of its
// last fragment and checks that start-up repair keeps every whole fragment
// and loses at most that one.
func TestRepairTornFragment(t *testing.T) {
	src := t.TempDir()
	s := openStore(t, src)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	writeSegment(t, s, "cam", start, 3)
	// Close without sealing: the segment stays open, as after a crash.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rel := "recordings/cam/2026-11-25/120000.000Z.mp4"
	whole, err := os.ReadFile(filepath.Join(src, rel))
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(src, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := os.ReadFile(filepath.Join(src, "recordings/.camvault-id"))
	if err != nil {
		t.Fatal(err)
	}
	fragSize := len(fragmentBytes(1, 0, fragFrames, start))
	lastStart := len(whole) - fragSize
	step := 1
	if testing.Short() {
		step = 97
	}
	for cut := lastStart; cut <= len(whole); cut += step {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), whole[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.db"), index, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "recordings/.camvault-id"), id, 0o644); err != nil {
			t.Fatal(err)
		}
		r := openStore(t, dir)
		infos, err := r.Segments("cam", start, time.Time{}, true)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if cut == len(whole) {
			want = 3
		}
		if len(infos) != 1 || infos[0].State != storage.StateSealed || len(infos[0].Fragments) != want {
			t.Fatalf("cut at %d: %+v, want sealed with %d fragments", cut, infos, want)
		}
		st, _ := os.Stat(filepath.Join(dir, rel))
		if st.Size() != infos[0].Bytes {
			t.Fatalf("cut at %d: file %d bytes, index %d", cut, st.Size(), infos[0].Bytes)
		}
	}
}

func TestRepairMissingFileAndEmptySegment(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	writeSegment(t, s, "gone", start, 1)
	writeSegment(t, s, "empty", start, 0)
	s.Close()
	if err := os.Remove(filepath.Join(dir, "recordings/gone/2026-11-25/120000.000Z.mp4")); err != nil {
		t.Fatal(err)
	}
	r := openStore(t, dir)
	defer r.Close()
	for _, cam := range []string{"gone", "empty"} {
		infos, err := r.Segments(cam, start.Add(-time.Hour), time.Time{}, false)
		if err != nil || len(infos) != 0 {
			t.Errorf("%s: %v %+v, want no segment", cam, err, infos)
		}
	}
}

func TestReindex(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 8, 0, 0, 5e6, time.UTC)
	for i, cam := range []string{"a", "b"} {
		seg := writeSegment(t, s, cam, start.Add(time.Duration(i)*time.Hour), 4)
		seg.Seal()
		<-seg.Done()
	}
	before := map[string][]storage.SegmentInfo{}
	for _, cam := range []string{"a", "b"} {
		before[cam], _ = s.Segments(cam, time.Time{}, time.Time{}, true)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, "index.db")); err != nil {
		t.Fatal(err)
	}
	// A stray file that is not a segment stays where it is.
	stray := filepath.Join(dir, "recordings/a/2026-11-25/notes.mp4")
	if err := os.WriteFile(stray, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := storage.Reindex(storage.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Segments != 2 || rep.Fragments != 8 || len(rep.Skipped) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("stray file touched: %v", err)
	}
	r := openStore(t, dir)
	defer r.Close()
	for cam, want := range before {
		got, err := r.Segments(cam, time.Time{}, time.Time{}, true)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %d segments", cam, err, len(got))
		}
		if !got[0].Start.Equal(want[0].Start) || got[0].Bytes != want[0].Bytes || len(got[0].Fragments) != len(want[0].Fragments) {
			t.Errorf("%s: reindexed %+v, was %+v", cam, got[0], want[0])
		}
		for i := range want[0].Fragments {
			if g, w := got[0].Fragments[i], want[0].Fragments[i]; g.Offset != w.Offset || g.Size != w.Size || g.Start.Sub(w.Start).Abs() > time.Microsecond {
				t.Errorf("%s fragment %d: %+v, was %+v", cam, i, g, w)
			}
		}
	}
}

func TestReindexRefusesLockedIndex(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	defer s.Close()
	_, err := storage.Reindex(storage.Config{Dir: dir, IndexTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("reindex ran while the index was open")
	}
}

func TestValidCamera(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"cam1", true}, {"Front_Door-2.hd", true}, {"a", true},
		{"", false}, {"archive", false}, {"../etc", false}, {".hidden", false}, {"a/b", false},
		{"-x", false}, {"a b", false}, {string(bytes.Repeat([]byte("a"), 65)), false},
		{string(bytes.Repeat([]byte("a"), 64)), true}, {"caméra", false}, {"a%2fb", false},
	} {
		if err := storage.ValidCamera(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidCamera(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPutSealedAdoptsSegments(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "a", start, 3)
	seg.Seal()
	<-seg.Done()
	infos, err := s.Segments("a", time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 1 {
		t.Fatal(err, infos)
	}
	adopted := infos[0]
	adopted.Camera, adopted.Start, adopted.End = "b", start.Add(time.Hour), adopted.End.Add(time.Hour)
	for i := range adopted.Fragments {
		adopted.Fragments[i].Start = adopted.Fragments[i].Start.Add(time.Hour)
	}
	if err := s.PutSealed([]storage.SegmentInfo{adopted}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Segments("b", time.Time{}, time.Time{}, true)
	if err != nil || len(got) != 1 || !got[0].Start.Equal(adopted.Start) || len(got[0].Fragments) != 3 ||
		got[0].Fragments[2].Offset != infos[0].Fragments[2].Offset {
		t.Fatalf("adopted %+v (%v)", got, err)
	}
	open := adopted
	open.State = storage.StateOpen
	if err := s.PutSealed([]storage.SegmentInfo{open}); err == nil {
		t.Error("PutSealed accepted an open segment")
	}
}
