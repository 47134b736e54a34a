package storage_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// qSeg is a sealed segment of a query test: it starts at t0+at, lasts dur
// and holds frags fragments of equal length and bytes bytes (a file of that
// size is written).
type qSeg struct {
	at, dur time.Duration
	frags   int
	bytes   int64
}

// putQuery indexes segs of cam, sealed, with their files.
func putQuery(f *retFixture, cam string, t0 time.Time, segs ...qSeg) {
	f.t.Helper()
	infos := make([]storage.SegmentInfo, 0, len(segs))
	for _, sg := range segs {
		start := t0.Add(sg.at)
		info := storage.SegmentInfo{Camera: cam, Start: start, End: start.Add(sg.dur), File: segFile(cam, start),
			Bytes: sg.bytes, State: storage.StateSealed}
		fd := sg.dur / time.Duration(sg.frags)
		for i := range sg.frags {
			info.Fragments = append(info.Fragments, storage.Fragment{Start: start.Add(time.Duration(i) * fd),
				Duration: fd, Offset: int64(i) * sg.bytes / int64(sg.frags), Size: sg.bytes / int64(sg.frags), Key: true})
		}
		f.writeFile(info.File, info.Bytes)
		infos = append(infos, info)
	}
	if err := f.s.PutSealed(infos); err != nil {
		f.t.Fatal(err)
	}
}

var spanT0 = time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)

// at returns spanT0+d.
func at(d time.Duration) time.Time { return spanT0.Add(d) }

func TestSpans(t *testing.T) {
	f := newRetFixture(t, 1<<40, nil)
	const m = time.Minute
	// [0,10m) [10m,20m) | 5 s | [20m5s,30m) | 60 s | [31m,40m)
	putQuery(f, "cam", spanT0, qSeg{0, 10 * m, 10, 1000}, qSeg{10 * m, 10 * m, 10, 1000},
		qSeg{20*m + 5*time.Second, 10*m - 5*time.Second, 5, 500}, qSeg{31 * m, 9 * m, 9, 900})
	span := func(a, b time.Duration) storage.Span { return storage.Span{Start: at(a), End: at(b)} }
	for _, tc := range []struct {
		name     string
		from, to time.Time
		tol      time.Duration
		limit    int
		want     []storage.Span
	}{
		{name: "no tolerance", tol: 0,
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m), span(31*m, 40*m)}},
		{name: "negative tolerance is zero", tol: -time.Hour,
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m), span(31*m, 40*m)}},
		{name: "tolerance joins the 5 s gap", tol: 5 * time.Second,
			want: []storage.Span{span(0, 30*m), span(31*m, 40*m)}},
		{name: "tolerance just short", tol: 5*time.Second - 1,
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m), span(31*m, 40*m)}},
		{name: "tolerance joins all", tol: time.Minute, want: []storage.Span{span(0, 40*m)}},
		{name: "clipped both sides", from: at(5 * m), to: at(35 * m),
			want: []storage.Span{span(5*m, 20*m), span(20*m+5*time.Second, 30*m), span(31*m, 35*m)}},
		{name: "from inside a gap", from: at(30*m + 30*time.Second), want: []storage.Span{span(31*m, 40*m)}},
		{name: "to inside a gap", to: at(30*m + 30*time.Second),
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m)}},
		{name: "to at a segment start excludes it", to: at(31 * m),
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m)}},
		{name: "window inside one segment", from: at(m), to: at(2 * m), want: []storage.Span{span(m, 2*m)}},
		{name: "before everything", from: at(-time.Hour), to: at(-time.Minute)},
		{name: "after everything", from: at(time.Hour)},
		// Review finding 5 on issue 11: the API asks max_spans+1 and the
		// store builds no more.
		{name: "limit", limit: 2, want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m)}},
		{name: "limit one", limit: 1, want: []storage.Span{span(0, 20*m)}},
		{name: "limit of a joined span", tol: time.Minute, limit: 1, want: []storage.Span{span(0, 40*m)}},
		{name: "limit above the count", limit: 4,
			want: []storage.Span{span(0, 20*m), span(20*m+5*time.Second, 30*m), span(31*m, 40*m)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.Spans("cam", tc.from, tc.to, tc.tol, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("spans\n got  %v\n want %v", got, tc.want)
			}
		})
	}
}

func TestSpansCameras(t *testing.T) {
	f := newRetFixture(t, 1<<40, nil)
	putQuery(f, "gone", spanT0, qSeg{0, 10 * time.Minute, 2, 100})
	f.s.SetRetention(storage.Retention{Default: storage.RetentionPolicy{MaxAge: time.Hour}})
	if rep, err := f.s.RunRetention(spanT0.Add(24*time.Hour), false); err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("retention: %v %+v", err, rep)
	}
	for _, tc := range []struct {
		name, camera string
		err          error
	}{
		{name: "empty camera", camera: "gone"},
		{name: "unknown camera", camera: "never"},
		{name: "invalid camera", camera: "../etc", err: storage.ErrInvalidCamera},
		{name: "reserved name", camera: storage.ReservedCamera, err: storage.ErrInvalidCamera},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans, err := f.s.Spans(tc.camera, time.Time{}, time.Time{}, time.Second, 0)
			if !errors.Is(err, tc.err) || len(spans) != 0 {
				t.Errorf("Spans(%q) = %v, %v; want none, %v", tc.camera, spans, err, tc.err)
			}
			sums, err := f.s.Summaries(tc.camera, spanT0, spanT0.Add(2*time.Hour), storage.SummaryHour, time.UTC)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Summaries(%q): %v, want %v", tc.camera, err, tc.err)
			}
			if tc.err == nil && (len(sums) != 2 || sums[0].Segments+sums[1].Segments != 0) {
				t.Errorf("Summaries(%q) = %+v, want two empty hours", tc.camera, sums)
			}
		})
	}
}

// TestQueriesOpenSegment records a segment for real and leaves it open:
// Spans, Summaries and Usage count what is written so far.
func TestQueriesOpenSegment(t *testing.T) {
	f := newRetFixture(t, 1<<40, nil)
	putQuery(f, "cam", spanT0, qSeg{0, 10 * time.Minute, 10, 1000})
	start := spanT0.Add(10 * time.Minute)
	f.open = append(f.open, writeSegment(t, f.s, "cam", start, 4))
	info := waitInfo(t, f.s, "cam", start, 3) // more than 3: all 4
	spans, err := f.s.Spans("cam", time.Time{}, time.Time{}, 0, 0)
	want := []storage.Span{{Start: spanT0, End: info.End}}
	if err != nil || !slices.Equal(spans, want) {
		t.Fatalf("spans %v, %v; want %v", spans, err, want)
	}
	sums, err := f.s.Summaries("cam", spanT0, spanT0.Add(time.Hour), storage.SummaryHour, time.UTC)
	if err != nil || len(sums) != 1 {
		t.Fatal(sums, err)
	}
	got := sums[0]
	if got.Segments != 2 || got.Fragments != 14 || got.Bytes != 1000+info.Bytes ||
		got.Recorded != 10*time.Minute+info.End.Sub(info.Start) {
		t.Errorf("summary %+v; want 2 segments, 14 fragments, %d bytes", got, 1000+info.Bytes)
	}
	usage, err := f.s.Usage()
	wantUsage := []storage.Usage{{Camera: "cam", Bytes: 1000 + info.Bytes, Segments: 2, Oldest: spanT0, Newest: info.End}}
	if err != nil || !slices.Equal(usage, wantUsage) {
		t.Errorf("usage %+v, %v; want %+v", usage, err, wantUsage)
	}
}

// TestQueryAllocations: Spans and Summaries allocate for their result, not
// per index entry: 1,000 segments cost what 10 do, but for the cursor
// stack of a deeper B-tree (bbolt grows it once per level).
func TestQueryAllocations(t *testing.T) {
	s, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for c, n := range map[string]int{"few": 10, "many": 1000} {
		infos := make([]storage.SegmentInfo, 0, n)
		for i := range n {
			infos = append(infos, realisticSegment(c, spanT0.Add(time.Duration(i)*segLen)))
		}
		if err := s.PutSealed(infos); err != nil {
			t.Fatal(err)
		}
	}
	allocs := func(cam string) (spans, sums float64) {
		spans = testing.AllocsPerRun(5, func() {
			if got, err := s.Spans(cam, time.Time{}, time.Time{}, 0, 0); err != nil || len(got) != 1 {
				t.Fatal(got, err)
			}
		})
		sums = testing.AllocsPerRun(5, func() {
			if _, err := s.Summaries(cam, spanT0, spanT0.Add(24*time.Hour), storage.SummaryHour, time.UTC); err != nil {
				t.Fatal(err)
			}
		})
		return spans, sums
	}
	fewSpans, fewSums := allocs("few")
	manySpans, manySums := allocs("many")
	if manySpans > fewSpans+2 || manySums > fewSums+2 {
		t.Errorf("allocations for 10 and 1,000 entries: Spans %v and %v, Summaries %v and %v",
			fewSpans, manySpans, fewSums, manySums)
	}
}

// TestUsageReusesItsAnswer: review finding 6 on issue 11. Usage reads every
// index entry of every camera, so it reuses its answer for
// Config.UsageMaxAge (5s here): a segment added meanwhile shows later,
// while retention's deletions show at once.
func TestUsageReusesItsAnswer(t *testing.T) {
	t.Parallel()
	f := newRetFixture(t, plenty, nil)
	f.put(segs("a", 0, 1)...)
	count := func() int {
		t.Helper()
		us, err := f.s.Usage()
		if err != nil || len(us) != 1 {
			t.Fatalf("usage %+v, %v", us, err)
		}
		us[0].Segments += 100 // the result is the caller's
		return us[0].Segments - 100
	}
	if n := count(); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}
	f.put(segs("a", 2)...)
	if n := count(); n != 2 {
		t.Errorf("%d segments right after a new one, want the answer of a moment ago (2)", n)
	}
	f.s.SetRetention(storage.Retention{Default: storage.RetentionPolicy{MaxAge: time.Minute}})
	rep, err := f.s.RunRetention(slot(10), false)
	if err != nil || len(rep.Deleted) != 3 {
		t.Fatalf("retention deleted %q, %v", names(rep.Deleted), err)
	}
	if us, err := f.s.Usage(); err != nil || len(us) != 1 || us[0].Segments != 0 {
		t.Errorf("usage after retention %+v, %v; want no segments", us, err)
	}
	f.checkFiles(segs("a", 0, 1, 2), rep.Deleted)
}

// TestSummariesOpenSegmentCopiesNoSeekTable: review finding 20 on issue 11.
// Summaries counts an open segment's fragments per bucket from a count and
// the bucket bounds inside it, not from a copy of its whole seek table (56
// bytes a fragment on every call; /cameras asks for every camera's day).
// It runs alone so that other tests' allocations do not count.
func TestSummariesOpenSegmentCopiesNoSeekTable(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	const n = 2000
	start := time.Date(2026, 11, 25, 9, 50, 0, 0, time.UTC) // crosses 10:00
	seg := writeSegment(t, s, "cam", start, n)
	defer func() { seg.Seal(); <-seg.Done() }()
	info := waitInfo(t, s, "cam", start, n-1)
	from, to := start.Truncate(time.Hour), start.Add(time.Hour)
	sums, err := s.Summaries("cam", from, to, storage.SummaryHour, time.UTC)
	if err != nil || len(sums) != 2 {
		t.Fatal(sums, err)
	}
	for _, b := range sums {
		want := 0
		for _, fr := range info.Fragments {
			if !fr.Start.Before(b.Start) && fr.Start.Before(b.End) {
				want++
			}
		}
		if b.Fragments != want {
			t.Errorf("bucket %v: %d fragments, want %d", b.Start, b.Fragments, want)
		}
	}
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := s.Summaries("cam", from, to, storage.SummaryHour, time.UTC); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 {
		t.Errorf("Summaries allocates %d bytes a call with a %d-fragment open segment; want under 16 KiB", per, n)
	}
}
