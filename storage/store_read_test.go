package storage_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// waitInfo waits until seg has more than n fragments written.
func waitInfo(t *testing.T, s *storage.Store, cam string, start time.Time, n int) storage.SegmentInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	info, err := s.WaitFragments(ctx, cam, start, n)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestReadInitAndFragments(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "cam", start, 3)

	// Open segment: fragments already written are readable.
	info := waitInfo(t, s, "cam", start, 2)
	if info.State != storage.StateOpen || len(info.Fragments) != 3 {
		t.Fatalf("open info %+v", info)
	}
	init, err := s.ReadInit(info.File)
	if err != nil || !bytes.Equal(init, testInit(t)) {
		t.Fatalf("ReadInit = %d bytes, %v; want the init given to Create", len(init), err)
	}
	checkFragments(t, s, info, start)

	seg.Seal()
	<-seg.Done()
	infos, err := s.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 1 || infos[0].State != storage.StateSealed {
		t.Fatalf("sealed: %v %+v", err, infos)
	}
	checkFragments(t, s, infos[0], start)

	// Many readers at once share the cached file.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			var buf []byte
			for range 50 {
				for _, f := range infos[0].Fragments {
					var err error
					if buf, err = s.ReadFragment(infos[0].File, f, buf); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkFragments reads every fragment of info and checks it against what
// writeSegment appended.
func checkFragments(t *testing.T, s *storage.Store, info storage.SegmentInfo, start time.Time) {
	t.Helper()
	buf := make([]byte, 0, 16)
	var p fmp4.ParsedFragment
	for i, f := range info.Fragments {
		wall := start.Add(time.Duration(i) * fragDur)
		var err error
		buf, err = s.ReadFragment(info.File, f, buf)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if want := fragmentBytes(uint32(i+1), uint64(i*fragFrames*1024), fragFrames, wall); !bytes.Equal(buf, want) {
			t.Fatalf("fragment %d differs", i)
		}
		if err := fmp4.ParseFragment(buf, &p); err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if len(p.Samples) != fragFrames || p.Wall.Sub(wall).Abs() > time.Nanosecond ||
			p.Samples[0].DTS != uint64(i*fragFrames*1024) || p.Samples[0].Data[0] != byte(i+1) {
			t.Fatalf("fragment %d parsed: wall %v, %d samples, first %+v", i, p.Wall, len(p.Samples), p.Samples[0])
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "cam", start, 1)
	info := waitInfo(t, s, "cam", start, 0)
	f := info.Fragments[0]
	tests := []struct {
		name string
		file string
		f    storage.Fragment
	}{
		{"not a segment path", "index.db", f},
		{"escapes the data directory", "recordings/../../x/2026-11-25/100000.000Z.mp4", f},
		{"missing file", "recordings/cam/2026-11-25/110000.000Z.mp4", f},
		{"past the end", info.File, storage.Fragment{Offset: f.Offset + f.Size, Size: f.Size}},
		{"negative offset", info.File, storage.Fragment{Offset: -1, Size: f.Size}},
		{"huge", info.File, storage.Fragment{Offset: 0, Size: 1 << 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := s.ReadFragment(tc.file, tc.f, nil); err == nil {
				t.Fatalf("read %d bytes", len(b))
			}
		})
	}
	if _, err := s.ReadInit("index.db"); err == nil {
		t.Error("ReadInit read the index")
	}
	seg.Seal()
	<-seg.Done()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadFragment(info.File, f, nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestReadInitCorrupt(t *testing.T) {
	dir := t.TempDir()
	rel := "recordings/cam/2026-11-25/100000.000Z.mp4"
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"moov first", []byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'}},
		{"ftyp only", []byte{0, 0, 0, 8, 'f', 't', 'y', 'p'}},
		{"huge moov", []byte{0, 0, 0, 8, 'f', 't', 'y', 'p', 0x7f, 0, 0, 0, 'm', 'o', 'o', 'v'}},
		{"size below header", []byte{0, 0, 0, 4, 'f', 't', 'y', 'p'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, rel), tc.b, 0o640); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir)
			defer s.Close()
			if init, err := s.ReadInit(rel); err == nil {
				t.Fatalf("read %d bytes", len(init))
			}
		})
	}
}

func TestWaitFragments(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg := writeSegment(t, s, "cam", start, 1)
	waitInfo(t, s, "cam", start, 0)

	type result struct {
		info storage.SegmentInfo
		err  error
	}
	wait := func(ctx context.Context, n int) chan result {
		ch := make(chan result, 1)
		go func() {
			info, err := s.WaitFragments(ctx, "cam", start, n)
			ch <- result{info, err}
		}()
		return ch
	}

	// A waiter for a second fragment blocks until one is appended.
	got := wait(t.Context(), 1)
	select {
	case r := <-got:
		t.Fatalf("returned before the append: %+v %v", r.info, r.err)
	default:
	}
	wall := start.Add(fragDur)
	buf := s.Buffer()
	*buf = append(*buf, fragmentBytes(2, fragFrames*1024, fragFrames, wall)...)
	if err := seg.Append(storage.FragmentInfo{Start: wall, Duration: fragDur, Key: true}, buf); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || len(r.info.Fragments) != 2 || r.info.State != storage.StateOpen {
		t.Fatalf("after append: %v %+v", r.err, r.info)
	}

	// A cancelled wait returns ctx's error.
	ctx, cancel := context.WithCancel(t.Context())
	got = wait(ctx, 5)
	cancel()
	if r := <-got; !errors.Is(r.err, context.Canceled) || len(r.info.Fragments) != 2 {
		t.Fatalf("cancelled: %v %+v", r.err, r.info)
	}

	// Sealing wakes a waiter; later waits return at once from the index.
	got = wait(t.Context(), 5)
	seg.Seal()
	if r := <-got; r.err != nil || r.info.State != storage.StateSealed || len(r.info.Fragments) != 2 {
		t.Fatalf("sealed: %v %+v", r.err, r.info)
	}
	<-seg.Done()
	if r := <-wait(t.Context(), 5); r.err != nil || r.info.State != storage.StateSealed || len(r.info.Fragments) != 2 {
		t.Fatalf("after seal: %v %+v", r.err, r.info)
	}
	if r := <-wait(t.Context(), 0); r.err != nil || len(r.info.Fragments) != 2 {
		t.Fatalf("after seal: %v %+v", r.err, r.info)
	}

	if _, err := s.WaitFragments(t.Context(), "cam", start.Add(time.Second), 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown start: %v, want ErrNotFound", err)
	}
	if _, err := s.WaitFragments(t.Context(), "nocam", start, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown camera: %v, want ErrNotFound", err)
	}
}

func TestWaitFragmentsStoreClose(t *testing.T) {
	s := openStore(t, t.TempDir())
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	writeSegment(t, s, "cam", start, 1)
	waitInfo(t, s, "cam", start, 0)
	errc := make(chan error, 1)
	go func() {
		_, err := s.WaitFragments(t.Context(), "cam", start, 1)
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

// BenchmarkReadFragment compares a cached read with opening the file for
// every read (what ReadFragment would cost without its file cache).
func BenchmarkReadFragment(b *testing.B) {
	dir := b.TempDir()
	s, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg, err := s.Create("cam", start, 1, testInit(b))
	if err != nil {
		b.Fatal(err)
	}
	// One second of 3 Mbit/s H.264 (25 frames of 15 kB) with 48 kHz AAC.
	video, audio := make([]fmp4.Sample, 25), make([]fmp4.Sample, 47)
	for i := range video {
		video[i] = fmp4.Sample{Duration: 3600, Size: 15000, Key: i == 0}
	}
	for i := range audio {
		audio[i] = fmp4.Sample{Duration: 1024, Size: 370, Key: true}
	}
	frag := fmp4.AppendFragment(nil, 1, 0, start, []fmp4.TrackFragment{
		{TrackID: 1, Samples: video, Data: make([]byte, 25*15000)},
		{TrackID: 2, Samples: audio, Data: make([]byte, 47*370)},
	})
	buf := s.Buffer()
	*buf = append(*buf, frag...)
	if err := seg.Append(storage.FragmentInfo{Start: start, Duration: time.Second, Key: true}, buf); err != nil {
		b.Fatal(err)
	}
	seg.Seal()
	<-seg.Done()
	infos, err := s.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 1 {
		b.Fatal(err)
	}
	info := infos[0]
	f := info.Fragments[0]
	b.Run("cached", func(b *testing.B) {
		dst := make([]byte, 0, f.Size)
		b.ReportAllocs()
		b.SetBytes(f.Size)
		for b.Loop() {
			if dst, err = s.ReadFragment(info.File, f, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-per-read", func(b *testing.B) {
		root, err := os.OpenRoot(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer root.Close()
		dst := make([]byte, f.Size)
		b.ReportAllocs()
		b.SetBytes(f.Size)
		for b.Loop() {
			file, err := root.Open(info.File)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := file.ReadAt(dst, f.Offset); err != nil {
				b.Fatal(err)
			}
			file.Close()
		}
	})
}
