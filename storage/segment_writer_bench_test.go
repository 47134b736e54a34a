package storage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// BenchmarkAppendSync measures the writer's work per fragment under each
// sync policy: a 400 KB fragment (1 s of a 3.2 Mbit/s camera) written with
// one pwrite and, under SyncFragment, fdatasynced; segments are rotated
// every 300 fragments, outside the timed loop. It reports the write+sync
// latency percentiles and the mean seal time (the fsync of SyncSegment
// lands there, and holds up every camera of the writer while it runs). Run it with a fixed count
// (-benchtime 300x): an open-ended run under SyncNone only measures how
// fast the page cache fills.
func BenchmarkAppendSync(b *testing.B) {
	for _, p := range []SyncPolicy{SyncFragment, SyncSegment, SyncNone} {
		b.Run(p.String(), func(b *testing.B) { benchAppendSync(b, p) })
	}
}

func benchAppendSync(b *testing.B, policy SyncPolicy) {
	dir := b.TempDir()
	s, err := Open(Config{Dir: dir, Sync: policy, Writers: 1, IndexTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	samples := make([]fmp4.Sample, 25)
	for i := range samples {
		samples[i] = fmp4.Sample{Duration: 3600, Size: 16000, Key: i == 0}
	}
	tf := []fmp4.TrackFragment{{TrackID: 1, Samples: samples, Data: make([]byte, 25*16000)}}
	frag := fmp4.AppendFragment(nil, 1, 0, faultStart, tf)
	fi := FragmentInfo{Start: faultStart, Duration: time.Second, Key: true}
	const perSegment = 300
	lat := make([]time.Duration, 0, 1<<16)
	var seg *Segment
	var seals []time.Duration
	n := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(frag)))
	for b.Loop() {
		if n%perSegment == 0 {
			b.StopTimer()
			var sealed time.Duration
			seg, sealed = benchRotate(b, s, seg, faultStart.Add(time.Duration(n)*time.Second))
			seals = append(seals, sealed)
			b.StartTimer()
		}
		n++
		t0 := time.Now()
		seg.w.append(seg, fi, frag)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	_, sealed := benchRotate(b, s, seg, faultStart.Add(time.Duration(n)*time.Second))
	seals = append(seals[1:], sealed) // the first rotation sealed nothing
	var total time.Duration
	for _, d := range seals {
		total += d
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e3, "p99-µs")
	b.ReportMetric(float64(total)/float64(len(seals))/1e6, "seal-ms")
}

// benchRotate seals and removes seg (if any), returning how long the seal
// took, and starts a new segment at start. The new segment's creation and first fragment go through the
// writer goroutine; once WaitFragments has seen them, the writer is idle
// and the benchmark calls its append directly.
func benchRotate(b *testing.B, s *Store, seg *Segment, start time.Time) (*Segment, time.Duration) {
	var sealed time.Duration
	if seg != nil {
		t0 := time.Now()
		seg.Seal()
		<-seg.Done()
		sealed = time.Since(t0)
		if err := seg.Err(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(filepath.Join(s.cfg.Dir, seg.file)); err != nil {
			b.Fatal(err)
		}
	}
	seg, err := s.Create("bench", start, 1, aacInit(b))
	if err != nil {
		b.Fatal(err)
	}
	b0, fi := faultFragment(0, start)
	buf := s.Buffer()
	*buf = append(*buf, b0...)
	if err := seg.Append(fi, buf); err != nil {
		b.Fatal(err)
	}
	if _, err := s.WaitFragments(context.Background(), "bench", start, 0); err != nil {
		b.Fatal(err)
	}
	return seg, sealed
}
