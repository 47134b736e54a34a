package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// sumWant is the expected content of one Summary.
type sumWant struct {
	recorded time.Duration
	bytes    int64
	segments int
	frags    int
}

func checkSummary(t *testing.T, name string, got storage.Summary, want sumWant) {
	t.Helper()
	if got.Recorded != want.recorded || got.Bytes != want.bytes || got.Segments != want.segments ||
		got.Fragments != want.frags {
		t.Errorf("%s [%v, %v): recorded %v bytes %d segments %d fragments %d; want %v %d %d %d", name,
			got.Start, got.End, got.Recorded, got.Bytes, got.Segments, got.Fragments,
			want.recorded, want.bytes, want.segments, want.frags)
	}
}

// checkBuckets checks that buckets are contiguous, that each starts at a
// full local hour (or midnight) and lasts lens[i] (or lens[0] for all).
func checkBuckets(t *testing.T, sums []storage.Summary, hours []int, length time.Duration) {
	t.Helper()
	if len(sums) != len(hours) {
		t.Fatalf("%d buckets, want %d", len(sums), len(hours))
	}
	for i, s := range sums {
		if i > 0 && !s.Start.Equal(sums[i-1].End) {
			t.Errorf("bucket %d starts at %v, the previous ends at %v", i, s.Start, sums[i-1].End)
		}
		if s.Start.Hour() != hours[i] || s.Start.Minute() != 0 || s.Start.Second() != 0 {
			t.Errorf("bucket %d starts at %v, want local hour %d", i, s.Start, hours[i])
		}
		if length > 0 && s.End.Sub(s.Start) != length {
			t.Errorf("bucket %d lasts %v, want %v", i, s.End.Sub(s.Start), length)
		}
	}
}

// TestSummariesBerlinSpring covers 29 March 2026 in Europe/Berlin: clocks
// jump from 02:00 CET to 03:00 CEST, so the day has 23 hours and no hour
// 2. One segment crosses local midnight, one the jump.
func TestSummariesBerlinSpring(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	f := newRetFixture(t, 1<<40, nil)
	t0 := time.Date(2026, 3, 28, 22, 50, 0, 0, time.UTC)
	putQuery(f, "cam", t0,
		qSeg{0, 20 * time.Minute, 20, 1200},               // 22:50Z-23:10Z: 23:50-00:10 local
		qSeg{100 * time.Minute, 60 * time.Minute, 6, 600}) // 00:30Z-01:30Z: 01:30 CET-03:30 CEST
	day28 := time.Date(2026, 3, 28, 0, 0, 0, 0, berlin)

	days, err := f.s.Summaries("cam", day28, day28.AddDate(0, 0, 3), storage.SummaryDay, berlin)
	if err != nil {
		t.Fatal(err)
	}
	checkBuckets(t, days, []int{0, 0, 0}, 0)
	for i, want := range []time.Duration{24 * time.Hour, 23 * time.Hour, 24 * time.Hour} {
		if got := days[i].End.Sub(days[i].Start); got != want {
			t.Errorf("day %d lasts %v, want %v", i, got, want)
		}
	}
	checkSummary(t, "28 March", days[0], sumWant{10 * time.Minute, 600, 1, 10})
	checkSummary(t, "29 March", days[1], sumWant{70 * time.Minute, 1200, 2, 16})
	checkSummary(t, "30 March", days[2], sumWant{})

	day29 := day28.AddDate(0, 0, 1)
	hours, err := f.s.Summaries("cam", day29, day29.AddDate(0, 0, 1), storage.SummaryHour, berlin)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1}
	for h := 3; h < 24; h++ {
		want = append(want, h)
	}
	checkBuckets(t, hours, want, time.Hour)
	checkSummary(t, "00:00 CET", hours[0], sumWant{10 * time.Minute, 600, 1, 10})
	checkSummary(t, "01:00 CET", hours[1], sumWant{30 * time.Minute, 300, 1, 3})
	checkSummary(t, "03:00 CEST", hours[2], sumWant{30 * time.Minute, 300, 1, 3})
	for i := 3; i < len(hours); i++ {
		checkSummary(t, "later", hours[i], sumWant{})
	}
}

// TestSummariesBerlinAutumn covers 25 October 2026 in Europe/Berlin:
// clocks go back from 03:00 CEST to 02:00 CET, so the day has 25 hours and
// hour 2 twice. The second segment is longer than a day, so it stores no
// count marks and is counted from its seek table.
func TestSummariesBerlinAutumn(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	f := newRetFixture(t, 1<<40, nil)
	t0 := time.Date(2026, 10, 24, 21, 30, 0, 0, time.UTC)
	putQuery(f, "cam", t0,
		qSeg{0, 16 * time.Hour, 16, 1600},                             // 24th 21:30Z - 25th 13:30Z
		qSeg{26*time.Hour + 30*time.Minute, 26 * time.Hour, 26, 2600}) // 26th 00:00Z - 27th 02:00Z
	day24 := time.Date(2026, 10, 24, 0, 0, 0, 0, berlin)

	days, err := f.s.Summaries("cam", day24, day24.AddDate(0, 0, 4), storage.SummaryDay, berlin)
	if err != nil {
		t.Fatal(err)
	}
	checkBuckets(t, days, []int{0, 0, 0, 0}, 0)
	for i, want := range []time.Duration{24 * time.Hour, 25 * time.Hour, 24 * time.Hour, 24 * time.Hour} {
		if got := days[i].End.Sub(days[i].Start); got != want {
			t.Errorf("day %d lasts %v, want %v", i, got, want)
		}
	}
	checkSummary(t, "24 October", days[0], sumWant{30 * time.Minute, 50, 1, 1})
	checkSummary(t, "25 October", days[1], sumWant{930 * time.Minute, 1550, 1, 15})
	checkSummary(t, "26 October", days[2], sumWant{23 * time.Hour, 2300, 1, 23})
	checkSummary(t, "27 October", days[3], sumWant{3 * time.Hour, 300, 1, 3})

	day25 := day24.AddDate(0, 0, 1)
	hours, err := f.s.Summaries("cam", day25, day25.AddDate(0, 0, 1), storage.SummaryHour, berlin)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 2}
	for h := 3; h < 24; h++ {
		want = append(want, h)
	}
	checkBuckets(t, hours, want, time.Hour)
	if _, off2a := hours[2].Start.Zone(); off2a != 2*3600 {
		t.Errorf("first 02:00 has offset %d, want CEST", off2a)
	}
	for i := 0; i < 15; i++ {
		checkSummary(t, "hour", hours[i], sumWant{time.Hour, 100, 1, 1})
	}
	checkSummary(t, "13:00Z", hours[15], sumWant{30 * time.Minute, 50, 1, 0})
	for i := 16; i < len(hours); i++ {
		checkSummary(t, "later", hours[i], sumWant{})
	}
}

func TestSummariesRange(t *testing.T) {
	f := newRetFixture(t, 1<<40, nil)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		unit     storage.SummaryUnit
	}{
		{"no start", time.Time{}, spanT0, storage.SummaryHour},
		{"no end", spanT0, time.Time{}, storage.SummaryHour},
		{"end before start", spanT0, spanT0.Add(-time.Hour), storage.SummaryDay},
		{"empty", spanT0, spanT0, storage.SummaryDay},
		{"unknown unit", spanT0, spanT0.Add(time.Hour), storage.SummaryUnit(9)},
		{"too many buckets", spanT0, spanT0.AddDate(2, 0, 0), storage.SummaryHour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.s.Summaries("cam", tc.from, tc.to, tc.unit, nil); !errors.Is(err, storage.ErrInvalidRange) {
				t.Errorf("err %v, want ErrInvalidRange", err)
			}
		})
	}
	// A partial first and last bucket widen to whole ones; nil is UTC.
	sums, err := f.s.Summaries("cam", spanT0.Add(30*time.Minute), spanT0.Add(90*time.Minute), storage.SummaryHour, nil)
	if err != nil || len(sums) != 2 || !sums[0].Start.Equal(spanT0) || !sums[1].End.Equal(spanT0.Add(2*time.Hour)) {
		t.Errorf("partial hours: %+v, %v", sums, err)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
