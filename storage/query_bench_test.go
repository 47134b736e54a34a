package storage_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// queryT0 is the start of the benchmarks' recordings.
var queryT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	queryFrag       = 2 * time.Second // one fragment per 2 s GOP: 300 per segment
	queryFragBytes  = 500_000         // about 2 Mbit/s
	querySegPerDay  = int(24 * time.Hour / segLen)
	queryYearDays   = 365
	queryMonthDays  = 30
	queryCameras    = 50
	queryPutsPerTxn = 1000
)

// realisticSegment is a sealed 10-minute segment as the recorder leaves
// it: 300 contiguous 2-second fragments after a 1 KiB header, sizes
// varying by a few percent, every fragment a keyframe fragment.
func realisticSegment(cam string, start time.Time) storage.SegmentInfo {
	n := int(segLen / queryFrag)
	frags := make([]storage.Fragment, n)
	off := int64(1024)
	for i := range frags {
		size := int64(queryFragBytes + (i*7919)%40000)
		frags[i] = storage.Fragment{Start: start.Add(time.Duration(i) * queryFrag), Duration: queryFrag,
			Offset: off, Size: size, Key: true}
		off += size
	}
	return storage.SegmentInfo{Camera: cam, Start: start, End: start.Add(segLen), File: segFile(cam, start),
		Bytes: off, State: storage.StateSealed, Tracks: []string{"avc1 1920x1080", "mp4a 48000/1"},
		Fragments: frags}
}

// queryIndex opens a Store whose index holds cameras x days of realistic
// segments from queryT0. Each camera started recording at its own odd
// offset (3 min 17 s plus 37 s per camera), so every hour boundary cuts
// one segment of each camera, as with a real recorder.
func queryIndex(b *testing.B, cameras, days int) *storage.Store {
	b.Helper()
	s, err := storage.Open(storage.Config{Dir: b.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for c := range cameras {
		cam := fmt.Sprintf("cam%02d", c)
		first := queryT0.Add(3*time.Minute + 17*time.Second + time.Duration(c)*37*time.Second)
		batch := make([]storage.SegmentInfo, 0, queryPutsPerTxn)
		for i := range days * querySegPerDay {
			batch = append(batch, realisticSegment(cam, first.Add(time.Duration(i)*segLen)))
			if len(batch) == cap(batch) || i == days*querySegPerDay-1 {
				if err := s.PutSealed(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	return s
}

// latencies collects per-operation durations and the process's CPU time
// spent in them, and reports the median, the p99 and the CPU time per
// operation (which a machine shared with other work does not inflate as
// much as wall-clock latency).
type latencies struct {
	d   []time.Duration
	cpu time.Duration
}

func (l *latencies) time(fn func()) {
	c := cpuTime()
	t := time.Now()
	fn()
	l.d = append(l.d, time.Since(t))
	l.cpu += cpuTime() - c
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(l.d[(len(l.d)*99)/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(l.cpu.Microseconds())/1000/float64(len(l.d)), "cpu-ms/op")
}

// BenchmarkSpans answers the spans of one camera over a year of
// 10-minute segments (52,560 index entries with 300-entry seek tables).
func BenchmarkSpans(b *testing.B) {
	s := queryIndex(b, 1, queryYearDays)
	to := queryT0.Add(queryYearDays * 24 * time.Hour)
	if _, err := s.Spans("cam00", queryT0, to, time.Second, 0); err != nil { // fault the index in
		b.Fatal(err)
	}
	b.ReportAllocs()
	var lat latencies
	for b.Loop() {
		lat.time(func() {
			spans, err := s.Spans("cam00", queryT0, to, time.Second, 0)
			if err != nil || len(spans) != 1 {
				b.Fatal(err, len(spans))
			}
		})
	}
	lat.report(b)
}

// BenchmarkSummaries answers the hour and day summaries of a month for
// each of 50 cameras (one op is all 50 cameras; 216,000 index entries with
// 300-entry seek tables), in Europe/Berlin.
func BenchmarkSummaries(b *testing.B) {
	s := queryIndex(b, queryCameras, queryMonthDays)
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, queryMonthDays)
	for _, bc := range []struct {
		name string
		unit storage.SummaryUnit
		n    int
	}{{"hour", storage.SummaryHour, queryMonthDays * 24}, {"day", storage.SummaryDay, queryMonthDays}} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := s.Summaries("cam00", from, to, bc.unit, loc); err != nil { // fault the index in
				b.Fatal(err)
			}
			b.ReportAllocs()
			var lat latencies
			for b.Loop() {
				lat.time(func() {
					for c := range queryCameras {
						sums, err := s.Summaries(fmt.Sprintf("cam%02d", c), from, to, bc.unit, loc)
						if err != nil || len(sums) != bc.n {
							b.Fatal(err, len(sums))
						}
					}
				})
			}
			lat.report(b)
		})
	}
}

// BenchmarkUsage answers the usage of 50 cameras with a month each (216,000
// index entries): "read" is the first call, which reads every entry head,
// and p50/p99 are the calls within Config.UsageMaxAge that reuse it.
func BenchmarkUsage(b *testing.B) {
	s := queryIndex(b, queryCameras, queryMonthDays)
	begin := time.Now()
	us, err := s.Usage()
	if err != nil || len(us) != queryCameras {
		b.Fatal(err, len(us))
	}
	read := time.Since(begin)
	b.ReportAllocs()
	var lat latencies
	for b.Loop() {
		lat.time(func() {
			if us, err := s.Usage(); err != nil || len(us) != queryCameras {
				b.Fatal(err, len(us))
			}
		})
	}
	lat.report(b)
	b.ReportMetric(float64(read.Microseconds())/1000, "read-ms")
}
