package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

var faultStart = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// faultRig is a Store on a temporary data directory whose writers go
// through a FaultPlan. At cleanup it closes the Store, reopens the data
// directory without faults and checks that index and files agree.
type faultRig struct {
	t    *testing.T
	dir  string
	s    *Store
	plan *FaultPlan
	// unindexed lists files the index may leave out (fsync failed at seal).
	unindexed map[string]bool
	// tornOK allows a torn tail beyond the index's Bytes (a cut failed).
	tornOK bool
	// reclaim calls and the need of the last one
	reclaims int
	need     int64
}

// newFaultRig opens a Store with cfg; freed is what Reclaim returns, or -1
// for no Reclaim hook.
func newFaultRig(t *testing.T, cfg Config, freed int64) *faultRig {
	t.Helper()
	r := &faultRig{t: t, dir: t.TempDir(), plan: &FaultPlan{}, unindexed: map[string]bool{}}
	cfg.Dir, cfg.Faults, cfg.IndexTimeout = r.dir, r.plan, time.Second
	if freed >= 0 {
		cfg.Reclaim = func(need int64) int64 {
			r.reclaims++
			r.need = need
			return freed
		}
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	t.Cleanup(func() {
		if err := r.s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		checkAgree(t, r.dir, r.unindexed, r.tornOK)
	})
	return r
}

// fragment returns the i-th one-second fragment of a segment starting at
// start: 47 AAC frames of 100 bytes.
func faultFragment(i int, start time.Time) ([]byte, FragmentInfo) {
	samples := make([]fmp4.Sample, 47)
	for k := range samples {
		samples[k] = fmp4.Sample{Duration: 1024, Size: 100, Key: true}
	}
	data := make([]byte, 47*100)
	for k := range data {
		data[k] = byte(i)
	}
	wall := start.Add(time.Duration(i) * 47 * 1024 * time.Second / 48000)
	tf := []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: uint64(i * 47 * 1024), Samples: samples, Data: data}}
	return fmp4.AppendFragment(nil, uint32(i+1), 0, wall, tf),
		FragmentInfo{Start: wall, Duration: 47 * 1024 * time.Second / 48000, Key: true}
}

// record creates a segment and queues n fragments; Append errors are
// ignored (they are the segment's failure, read with Err after sealing).
func (r *faultRig) record(camera string, start time.Time, n int) *Segment {
	r.t.Helper()
	seg, err := r.s.Create(camera, start, 1, aacInit(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	for i := range n {
		r.appendFragment(seg, i)
	}
	return seg
}

func (r *faultRig) appendFragment(seg *Segment, i int) {
	_ = seg.Append(r.fragmentBuf(seg, i)) // a failure is the segment's Err
}

func sealWait(seg *Segment) {
	seg.Seal()
	<-seg.Done()
}

// checkAgree reopens dir and checks every segment of the index against its
// file (scanned with scanSegment): same fragments, offsets and sizes, and
// a file size equal to the index's Bytes. Every segment file must be in the
// index unless listed in unindexed.
func checkAgree(t *testing.T, dir string, unindexed map[string]bool, tornOK bool) {
	t.Helper()
	s, err := Open(Config{Dir: dir, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	indexed := map[string]bool{}
	cams, err := s.Cameras()
	if err != nil {
		t.Fatal(err)
	}
	for _, cam := range cams {
		infos, err := s.Segments(cam, time.Time{}, time.Time{}, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			indexed[info.File] = true
			checkFileMatches(t, s, info, tornOK)
		}
	}
	err = filepath.WalkDir(filepath.Join(dir, recordingsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !indexed[rel] && !unindexed[rel] && !strings.HasPrefix(d.Name(), ".") {
			t.Errorf("file %s is not in the index", rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

func checkFileMatches(t *testing.T, s *Store, info SegmentInfo, tornOK bool) {
	t.Helper()
	scanned, err := s.scanFile(info.File, false)
	if err != nil {
		t.Errorf("%s: %v", info.File, err)
		return
	}
	st, err := os.Stat(filepath.Join(s.cfg.Dir, info.File))
	if err != nil {
		t.Fatal(err)
	}
	if info.State != StateSealed || info.Bytes != scanned.ValidEnd || (!tornOK && st.Size() != info.Bytes) {
		t.Errorf("%s: index %v %d bytes, file %d bytes with %d whole", info.File, info.State, info.Bytes,
			st.Size(), scanned.ValidEnd)
	}
	if len(scanned.Fragments) != len(info.Fragments) {
		t.Fatalf("%s: index has %d fragments, file %d", info.File, len(info.Fragments), len(scanned.Fragments))
	}
	for i, f := range info.Fragments {
		g := scanned.Fragments[i]
		if f.Offset != g.Offset || f.Size != g.Size || f.Start.Sub(g.Start).Abs() > time.Microsecond {
			t.Errorf("%s fragment %d: index %+v, file %+v", info.File, i, f, g)
		}
	}
}

type writeFaultCase struct {
	name  string
	sync  SyncPolicy
	rules []FaultRule
	freed int64 // Reclaim's answer; -1: no Reclaim hook
	// want is the number of fragments (of 5) the index holds after seal;
	// noFile says the create failed and left neither file nor entry.
	want   int
	noFile bool
	// unindexed: the file is kept with its fragments, out of the index.
	unindexed bool
	torn      bool
	wantErr   error // errors.Is target of Err; nil: none
	errors    uint64
	noSpace   uint64
	reclaims  int
	fsyncs    int // FileSync operations seen; -1: not checked
	dirSyncs  int // FileSyncDir operations seen; -1: not checked
}

// Write #1 of a segment is its header, so FileWrite with Skip 3 fails the
// third fragment.
var writeFaultCases = []writeFaultCase{
	{name: "torn write EIO is cut, no reclaim", freed: 1 << 20, want: 2, wantErr: syscall.EIO, errors: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Count: 1, Written: 100, Err: syscall.EIO}}, fsyncs: 2, dirSyncs: -1},
	{name: "ENOSPC, reclaim frees, retry succeeds", freed: 8 << 20, want: 5, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Count: 1, Written: 100, Err: syscall.ENOSPC}}, fsyncs: -1, dirSyncs: -1},
	{name: "ENOSPC, reclaim frees nothing", freed: 0, want: 2, wantErr: ErrNoSpace, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Written: 100, Err: syscall.ENOSPC}}, fsyncs: -1, dirSyncs: -1},
	{name: "ENOSPC, no reclaim hook", freed: -1, want: 2, wantErr: ErrNoSpace, errors: 1, noSpace: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Err: syscall.ENOSPC}}, fsyncs: -1, dirSyncs: -1},
	{name: "EDQUOT", freed: 0, want: 2, wantErr: ErrNoSpace, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Err: syscall.EDQUOT}}, fsyncs: -1, dirSyncs: -1},
	{name: "ENOSPC again after reclaim", freed: 1 << 20, want: 2, wantErr: ErrNoSpace, errors: 2, noSpace: 2, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Skip: 3, Count: 2, Written: 100, Err: syscall.ENOSPC}}, fsyncs: -1, dirSyncs: -1},
	{name: "torn write and the cut fails", freed: 0, want: 2, wantErr: ErrNoSpace, torn: true, errors: 2, noSpace: 1, reclaims: 1,
		rules:  []FaultRule{{Op: FileWrite, Skip: 3, Count: 1, Written: 100, Err: syscall.ENOSPC}, {Op: FileTruncate}},
		fsyncs: -1, dirSyncs: -1},
	{name: "fdatasync EIO ends the segment, no second fsync", freed: 1 << 20, want: 2, wantErr: syscall.EIO, errors: 1,
		rules: []FaultRule{{Op: FileDatasync, Skip: 2}}, fsyncs: 1, dirSyncs: -1},
	{name: "fdatasync ENOSPC", freed: 1 << 20, want: 2, wantErr: ErrNoSpace, errors: 1, noSpace: 1,
		rules: []FaultRule{{Op: FileDatasync, Skip: 2, Err: syscall.ENOSPC}}, fsyncs: 1, dirSyncs: -1},
	{name: "fsync at seal fails, fragments were fdatasynced", want: 5, wantErr: syscall.EIO, errors: 1, freed: -1,
		rules: []FaultRule{{Op: FileSync, Skip: 1}}, fsyncs: 2, dirSyncs: -1},
	{name: "fsync at seal fails under segment policy", sync: SyncSegment, unindexed: true, wantErr: syscall.EIO,
		errors: 1, freed: -1, rules: []FaultRule{{Op: FileSync, Skip: 1}}, fsyncs: 2, dirSyncs: -1},
	{name: "fragment policy syncs file and every new directory", want: 5, freed: -1, fsyncs: 2, dirSyncs: 4},
	{name: "segment policy syncs at create and seal", sync: SyncSegment, want: 5, freed: -1, fsyncs: 2, dirSyncs: 4},
	{name: "none policy never syncs", sync: SyncNone, want: 5, freed: -1, fsyncs: 0, dirSyncs: 0},
	{name: "mkdir ENOSPC", noFile: true, wantErr: ErrNoSpace, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileMkdir, Err: syscall.ENOSPC}}, fsyncs: 0, dirSyncs: 0},
	{name: "create ENOSPC", noFile: true, wantErr: ErrNoSpace, errors: 1, noSpace: 1, freed: -1,
		rules: []FaultRule{{Op: FileCreate, Err: syscall.ENOSPC}}, fsyncs: 0, dirSyncs: 0},
	{name: "torn header ENOSPC", noFile: true, wantErr: ErrNoSpace, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Count: 1, Written: 10, Err: syscall.ENOSPC}}, fsyncs: 0, dirSyncs: 0},
	{name: "header ENOSPC, reclaim frees", freed: 1 << 20, want: 5, errors: 1, noSpace: 1, reclaims: 1,
		rules: []FaultRule{{Op: FileWrite, Count: 1, Written: 10, Err: syscall.ENOSPC}}, fsyncs: 2, dirSyncs: 4},
	{name: "new file fsync EIO", noFile: true, wantErr: syscall.EIO, errors: 1, freed: 1 << 20,
		rules: []FaultRule{{Op: FileSync, Count: 1}}, fsyncs: 1, dirSyncs: 0},
	{name: "directory fsync EIO", noFile: true, wantErr: syscall.EIO, errors: 1, freed: 1 << 20,
		rules: []FaultRule{{Op: FileSyncDir, Count: 1}}, fsyncs: 1, dirSyncs: 1},
}

func TestWriteFaults(t *testing.T) {
	for _, tc := range writeFaultCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newFaultRig(t, Config{Sync: tc.sync}, tc.freed)
			for _, rule := range tc.rules {
				rule.Camera = "cam"
				r.plan.Add(rule)
			}
			seg := r.record("cam", faultStart, 5)
			sealWait(seg)
			r.tornOK = tc.torn
			if tc.unindexed {
				r.unindexed[seg.file] = true
			}
			err := seg.Err()
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Err() = %v, want %v", err, tc.wantErr)
			}
			r.checkOutcome(seg, tc)
		})
	}
}

func (r *faultRig) checkOutcome(seg *Segment, tc writeFaultCase) {
	t := r.t
	infos, err := r.s.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join(r.dir, seg.file))
	switch {
	case tc.noFile || tc.unindexed:
		if len(infos) != 0 {
			t.Errorf("index holds %+v, want nothing", infos)
		}
		if exists := statErr == nil; exists != tc.unindexed {
			t.Errorf("file exists = %v, want %v", exists, tc.unindexed)
		}
	case len(infos) != 1 || len(infos[0].Fragments) != tc.want:
		t.Errorf("index holds %+v, want one segment with %d fragments", infos, tc.want)
	}
	c := r.s.Counters("cam")
	if c.WriteErrors != tc.errors || c.NoSpace != tc.noSpace || r.reclaims != tc.reclaims {
		t.Errorf("write errors %d, no space %d, reclaims %d; want %d, %d, %d",
			c.WriteErrors, c.NoSpace, r.reclaims, tc.errors, tc.noSpace, tc.reclaims)
	}
	if r.reclaims > 0 && (r.need != 4<<20 || c.Reclaimed != uint64(max(tc.freed, 0))) {
		t.Errorf("reclaim asked for %d and counted %d freed", r.need, c.Reclaimed)
	}
	if n := r.plan.Count(FileSync); tc.fsyncs >= 0 && n != tc.fsyncs {
		t.Errorf("%d fsyncs, want %d", n, tc.fsyncs)
	}
	if n := r.plan.Count(FileSyncDir); tc.dirSyncs >= 0 && n != tc.dirSyncs {
		t.Errorf("%d directory fsyncs, want %d", n, tc.dirSyncs)
	}
	if c.FragmentsWritten != uint64(tc.want) && !tc.unindexed {
		t.Errorf("counted %d fragments written, want %d", c.FragmentsWritten, tc.want)
	}
}

// TestFaultOtherCameraUnaffected fails every write of one camera and checks
// that another camera, on another writer or on the same one, records all
// its fragments.
func TestFaultOtherCameraUnaffected(t *testing.T) {
	for _, sameWriter := range []bool{false, true} {
		t.Run(map[bool]string{false: "other writer", true: "same writer"}[sameWriter], func(t *testing.T) {
			r := newFaultRig(t, Config{Writers: 2}, 0)
			bad, good := "cam0", ""
			for i := 1; good == ""; i++ {
				name := "cam" + string(rune('0'+i))
				if (r.s.writerFor(name) == r.s.writerFor(bad)) == sameWriter {
					good = name
				}
			}
			r.plan.Add(FaultRule{Op: FileWrite, Camera: bad, Skip: 2, Err: syscall.ENOSPC})
			segBad, err := r.s.Create(bad, faultStart, 1, aacInit(t))
			if err != nil {
				t.Fatal(err)
			}
			segGood := r.record(good, faultStart, 0)
			for i := range 5 {
				r.appendFragment(segBad, i)
				r.appendFragment(segGood, i)
			}
			sealWait(segBad)
			sealWait(segGood)
			if err := segGood.Err(); err != nil {
				t.Fatalf("good camera failed: %v", err)
			}
			if !errors.Is(segBad.Err(), ErrNoSpace) {
				t.Fatalf("bad camera: %v, want ErrNoSpace", segBad.Err())
			}
			for cam, want := range map[string]int{bad: 1, good: 5} {
				infos, err := r.s.Segments(cam, time.Time{}, time.Time{}, true)
				if err != nil || len(infos) != 1 || len(infos[0].Fragments) != want {
					t.Errorf("%s: %v %+v, want %d fragments", cam, err, infos, want)
				}
			}
			if c := r.s.Counters(good); c.WriteErrors != 0 || c.FragmentsWritten != 5 || c.SegmentsSealed != 1 {
				t.Errorf("good camera counters %+v", c)
			}
		})
	}
}

// TestCreateDuplicateStart checks that a second Create with the start of a
// segment that exists fails without touching the first one's entry or file.
func TestCreateDuplicateStart(t *testing.T) {
	r := newFaultRig(t, Config{}, -1)
	first := r.record("cam", faultStart, 3)
	second := r.record("cam", faultStart, 2)
	sealWait(first)
	sealWait(second)
	if err := first.Err(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(second.Err(), ErrSegmentExists) {
		t.Fatalf("second create: %v, want ErrSegmentExists", second.Err())
	}
	infos, err := r.s.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 1 || len(infos[0].Fragments) != 3 {
		t.Fatalf("%v %+v, want the first segment with 3 fragments", err, infos)
	}
}

func TestCounters(t *testing.T) {
	r := newFaultRig(t, Config{}, -1)
	var bytes int64
	for i := range 2 {
		seg := r.record("cam", faultStart.Add(time.Duration(i)*time.Minute), 3)
		sealWait(seg)
		bytes += seg.Info(false).Bytes
	}
	// A third segment left open, to get a torn tail as after a crash.
	r.record("cam", faultStart.Add(time.Hour), 2)
	if _, err := r.s.WaitFragments(context.Background(), "cam", faultStart.Add(time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	r.s.countDeleted("cam", ReasonMinFree, 1000)
	r.s.countDeleted("cam", ReasonMinFree, 500)
	r.s.countDeleted("other", ReasonMaxAge, 7)
	c := r.s.Counters("cam")
	want := CameraCounters{BytesWritten: c.BytesWritten, FragmentsWritten: 8, SegmentsSealed: 2}
	want.Deleted[ReasonMinFree] = DeletedCount{Segments: 2, Bytes: 1500}
	all := r.s.AllCounters()
	if c != want || c.BytesWritten <= uint64(bytes) {
		t.Errorf("counters %+v, want %+v and more than the sealed segments' %d bytes", c, want, bytes)
	}
	if all["other"].Deleted[ReasonMaxAge] != (DeletedCount{Segments: 1, Bytes: 7}) || len(all) != 2 {
		t.Errorf("AllCounters %+v", all)
	}
	if err := r.s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileBytes(t, r.dir); got != int64(c.BytesWritten) {
		t.Errorf("counted %d bytes written, files hold %d", c.BytesWritten, got)
	}
	open := segmentPath("cam", faultStart.Add(time.Hour))
	f, err := os.OpenFile(filepath.Join(r.dir, open), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("\x00\x00\x10\x00moof torn")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, err := Open(Config{Dir: r.dir, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	if c := s.Counters("cam"); c.FragmentsLostToCrash != 1 {
		t.Errorf("fragments lost to crash %d, want 1", c.FragmentsLostToCrash)
	}
}

// fileBytes sums the sizes of the segment files under dir.
func fileBytes(t *testing.T, dir string) int64 {
	var n int64
	err := filepath.WalkDir(filepath.Join(dir, recordingsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, segmentExt) {
			return err
		}
		st, err := d.Info()
		n += st.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
