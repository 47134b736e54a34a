package ingest_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // the zone database, should the host lack one

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/alloctest"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func utc(mo time.Month, d, h, mi int) time.Time {
	return time.Date(2024, mo, d, h, mi, 0, 0, time.UTC)
}

func rules(rs ...any) ingest.Schedule {
	var s ingest.Schedule
	for i := 0; i < len(rs); i += 2 {
		s.Rules = append(s.Rules, ingest.Rule{Cron: rs[i].(string), Duration: rs[i+1].(time.Duration)})
	}
	return s
}

// scheduleCases drive TestScheduleActive, TestScheduleNext and the seeds of
// FuzzScheduleValidate. at is the instant asked about; want is the window
// active at it (zero: none); next is the next window starting after it.
var scheduleCases = []struct {
	name     string
	s        ingest.Schedule
	at       time.Time
	want     ingest.Window
	next     ingest.Window
	noWindow bool
}{
	{
		name: "single window inside",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 2*time.Hour),
		at:   utc(6, 3, 9, 0),
		want: ingest.Window{Start: utc(6, 3, 8, 0), End: utc(6, 3, 10, 0)},
		next: ingest.Window{Start: utc(6, 4, 8, 0), End: utc(6, 4, 10, 0)},
	},
	{
		name: "single window at its start",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 2*time.Hour),
		at:   utc(6, 3, 8, 0),
		want: ingest.Window{Start: utc(6, 3, 8, 0), End: utc(6, 3, 10, 0)},
		next: ingest.Window{Start: utc(6, 4, 8, 0), End: utc(6, 4, 10, 0)},
	},
	{
		name: "single window end is exclusive",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 2*time.Hour),
		at:   utc(6, 3, 10, 0),
		next: ingest.Window{Start: utc(6, 4, 8, 0), End: utc(6, 4, 10, 0)},
	},
	{
		name: "before the window",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 2*time.Hour),
		at:   utc(6, 3, 7, 59),
		next: ingest.Window{Start: utc(6, 3, 8, 0), End: utc(6, 3, 10, 0)},
	},
	{
		name: "crossing midnight, after midnight",
		s:    rules("CRON_TZ=UTC 0 22 * * *", 10*time.Hour),
		at:   utc(6, 4, 3, 0),
		want: ingest.Window{Start: utc(6, 3, 22, 0), End: utc(6, 4, 8, 0)},
		next: ingest.Window{Start: utc(6, 4, 22, 0), End: utc(6, 5, 8, 0)},
	},
	{
		name: "weekdays only, friday night into saturday",
		s:    rules("CRON_TZ=UTC 0 22 * * 1-5", 10*time.Hour),
		at:   utc(6, 8, 7, 0), // Saturday
		want: ingest.Window{Start: utc(6, 7, 22, 0), End: utc(6, 8, 8, 0)},
		next: ingest.Window{Start: utc(6, 10, 22, 0), End: utc(6, 11, 8, 0)},
	},
	{
		name: "overlapping rules merge",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 4*time.Hour, "CRON_TZ=UTC 0 11 * * *", 3*time.Hour),
		at:   utc(6, 3, 9, 0),
		want: ingest.Window{Start: utc(6, 3, 8, 0), End: utc(6, 3, 14, 0)},
		next: ingest.Window{Start: utc(6, 4, 8, 0), End: utc(6, 4, 14, 0)},
	},
	{
		name: "touching rules merge, asked in the second",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 4*time.Hour, "CRON_TZ=UTC 0 12 * * *", 2*time.Hour),
		at:   utc(6, 3, 13, 0),
		want: ingest.Window{Start: utc(6, 3, 8, 0), End: utc(6, 3, 14, 0)},
		next: ingest.Window{Start: utc(6, 4, 8, 0), End: utc(6, 4, 14, 0)},
	},
	{
		name: "a rule overlapping itself merges",
		s:    rules("CRON_TZ=UTC 0 * * * *", 90*time.Minute),
		at:   utc(6, 3, 9, 0),
		want: ingest.Window{Start: utc(5, 3, 9, 0), End: utc(7, 4, 9, 30)}, // clipped after 31 days each way
	},
	{
		name: "gap between rules stays a gap",
		s:    rules("CRON_TZ=UTC 0 8 * * *", 2*time.Hour, "CRON_TZ=UTC 1 10 * * *", time.Hour),
		at:   utc(6, 3, 10, 0),
		next: ingest.Window{Start: utc(6, 3, 10, 1), End: utc(6, 3, 11, 1)},
	},
	{
		name: "several days, weekly window",
		s:    rules("CRON_TZ=UTC 0 18 * * 5", 60*time.Hour), // Friday 18:00 to Monday 06:00
		at:   utc(6, 9, 12, 0),                              // Sunday
		want: ingest.Window{Start: utc(6, 7, 18, 0), End: utc(6, 10, 6, 0)},
		next: ingest.Window{Start: utc(6, 14, 18, 0), End: utc(6, 17, 6, 0)},
	},
	{
		name: "zone prefix TZ=",
		s:    rules("TZ=Asia/Tokyo 0 9 * * *", time.Hour),
		at:   utc(6, 3, 0, 30),
		want: ingest.Window{Start: utc(6, 3, 0, 0), End: utc(6, 3, 1, 0)},
		next: ingest.Window{Start: utc(6, 4, 0, 0), End: utc(6, 4, 1, 0)},
	},
	{
		name:     "never again",
		s:        rules("CRON_TZ=UTC 0 8 29 2 *", time.Hour),
		at:       utc(3, 1, 0, 0),
		noWindow: true, // next leap day is 2028, inside robfig's five years
		next:     ingest.Window{Start: time.Date(2028, 2, 29, 8, 0, 0, 0, time.UTC), End: time.Date(2028, 2, 29, 9, 0, 0, 0, time.UTC)},
	},
}

func TestScheduleActive(t *testing.T) {
	t.Parallel()
	for _, tc := range scheduleCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, ok := tc.s.Active(tc.at)
			if ok != !tc.want.Start.IsZero() || !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
				t.Errorf("Active(%v) = %v, %v; want %v", tc.at, got, ok, tc.want)
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	for _, tc := range scheduleCases {
		if tc.next.Start.IsZero() {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.s.Next(tc.at)
			if !ok || !got.Start.Equal(tc.next.Start) || !got.End.Equal(tc.next.End) {
				t.Errorf("Next(%v) = %v, %v; want %v", tc.at, got, ok, tc.next)
			}
		})
	}
}

func TestScheduleAlways(t *testing.T) {
	t.Parallel()
	s := ingest.Schedule{Always: true}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if w, ok := s.Active(utc(6, 3, 9, 0)); !ok || w != (ingest.Window{}) {
		t.Errorf("Active = %v, %v; want unbounded, true", w, ok)
	}
	if w, ok := s.Next(utc(6, 3, 9, 0)); ok {
		t.Errorf("Next = %v, true; want none", w)
	}
}

func TestScheduleLocalZone(t *testing.T) {
	t.Parallel()
	s := rules("0 8 * * *", time.Hour)
	at := time.Date(2024, 6, 3, 8, 30, 0, 0, time.Local)
	w, ok := s.Active(at.UTC())
	if want := time.Date(2024, 6, 3, 8, 0, 0, 0, time.Local); !ok || !w.Start.Equal(want) {
		t.Errorf("Active = %v, %v; want start %v (rules without a zone are in time.Local)", w, ok, want)
	}
	if w.Start.Location() != time.UTC {
		t.Errorf("window in %v; want the location of the argument", w.Start.Location())
	}
}

// TestScheduleDST checks the windows of the days clocks change. Duration is
// real time, so a window across the change is an hour longer or shorter on
// the wall clock. Wall-clock times that do not exist are skipped (as
// robfig/cron does); those that happen twice open one window, at the first.
func TestScheduleDST(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	ny := mustZone(t, "America/New_York")
	at := func(loc *time.Location, mo time.Month, d, h, mi int) time.Time {
		return time.Date(2024, mo, d, h, mi, 0, 0, loc)
	}
	cases := []struct {
		name  string
		cron  string
		dur   time.Duration
		from  time.Time
		count int
		want  []ingest.Window
	}{
		{
			name: "berlin 08:00 across spring forward", cron: "CRON_TZ=Europe/Berlin 0 8 * * *", dur: 10 * time.Hour,
			from: at(berlin, 3, 30, 0, 0), count: 2,
			want: []ingest.Window{
				{Start: utc(3, 30, 7, 0), End: utc(3, 30, 17, 0)},
				{Start: utc(3, 31, 6, 0), End: utc(3, 31, 16, 0)}, // 08:00 CEST
			},
		},
		{
			name: "berlin 08:00 across fall back", cron: "CRON_TZ=Europe/Berlin 0 8 * * *", dur: 10 * time.Hour,
			from: at(berlin, 10, 26, 0, 0), count: 2,
			want: []ingest.Window{
				{Start: utc(10, 26, 6, 0), End: utc(10, 26, 16, 0)},
				{Start: utc(10, 27, 7, 0), End: utc(10, 27, 17, 0)}, // 08:00 CET
			},
		},
		{
			name: "berlin 22:00 10h over the spring-forward night ends 09:00 local", cron: "CRON_TZ=Europe/Berlin 0 22 * * *", dur: 10 * time.Hour,
			from: at(berlin, 3, 30, 12, 0), count: 1,
			want: []ingest.Window{{Start: utc(3, 30, 21, 0), End: utc(3, 31, 7, 0)}},
		},
		{
			name: "berlin 02:30 skipped on spring forward", cron: "CRON_TZ=Europe/Berlin 30 2 * * *", dur: time.Hour,
			from: at(berlin, 3, 30, 12, 0), count: 1,
			want: []ingest.Window{{Start: utc(4, 1, 0, 30), End: utc(4, 1, 1, 30)}},
		},
		{
			name: "berlin 02:30 once on fall back", cron: "CRON_TZ=Europe/Berlin 30 2 * * *", dur: 30 * time.Minute,
			from: at(berlin, 10, 26, 12, 0), count: 2,
			want: []ingest.Window{
				{Start: utc(10, 27, 0, 30), End: utc(10, 27, 1, 0)}, // 02:30 CEST, not again at 02:30 CET
				{Start: utc(10, 28, 1, 30), End: utc(10, 28, 2, 0)},
			},
		},
		{
			name: "new york 08:00 across spring forward", cron: "CRON_TZ=America/New_York 0 8 * * *", dur: 10 * time.Hour,
			from: at(ny, 3, 9, 12, 0), count: 1,
			want: []ingest.Window{{Start: utc(3, 10, 12, 0), End: utc(3, 10, 22, 0)}}, // 08:00 EDT
		},
		{
			name: "new york 02:30 skipped on spring forward", cron: "CRON_TZ=America/New_York 30 2 * * *", dur: time.Hour,
			from: at(ny, 3, 9, 12, 0), count: 1,
			want: []ingest.Window{{Start: utc(3, 11, 6, 30), End: utc(3, 11, 7, 30)}},
		},
		{
			name: "new york 01:30 once on fall back", cron: "CRON_TZ=America/New_York 30 1 * * *", dur: 10 * time.Hour,
			from: at(ny, 11, 2, 12, 0), count: 2,
			want: []ingest.Window{
				{Start: utc(11, 3, 5, 30), End: utc(11, 3, 15, 30)}, // 01:30 EDT, not again at 01:30 EST
				{Start: utc(11, 4, 6, 30), End: utc(11, 4, 16, 30)},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := rules(tc.cron, tc.dur)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []ingest.Window
			for cur := tc.from; len(got) < tc.count; {
				w, ok := s.Next(cur)
				if !ok {
					t.Fatalf("Next(%v): none", cur)
				}
				got = append(got, w)
				if a, ok := s.Active(w.Start.Add(time.Minute)); !ok || !a.Start.Equal(w.Start) || !a.End.Equal(w.End) {
					t.Errorf("Active inside %v = %v, %v", w, a, ok)
				}
				cur = w.Start
			}
			for i := range tc.want {
				if !got[i].Start.Equal(tc.want[i].Start) || !got[i].End.Equal(tc.want[i].End) {
					t.Errorf("window %d = %v; want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		s    ingest.Schedule
		want string // substring of the error
	}{
		{"empty", ingest.Schedule{}, "neither always nor any rule"},
		{"always and rules", ingest.Schedule{Always: true, Rules: []ingest.Rule{{Cron: "0 8 * * *", Duration: time.Hour}}}, "exclude each other"},
		{"bad cron", rules("0 25 * * *", time.Hour), `rule 1 ("0 25 * * *")`},
		{"six fields", rules("0 0 8 * * *", time.Hour), "expected exactly 5 fields"},
		{"empty cron", rules("", time.Hour), "rule 1"},
		{"zero duration", rules("0 8 * * *", time.Duration(0)), "duration 0s is not positive"},
		{"negative duration", rules("0 8 * * *", -time.Hour), "is not positive"},
		{"over seven days", rules("0 8 * * *", 7*24*time.Hour+time.Second), "over the maximum of 168h0m0s"},
		{"unknown zone", rules("CRON_TZ=Mars/Olympus 0 8 * * *", time.Hour), `unknown time zone "Mars/Olympus"`},
		{"zone without expression", rules("CRON_TZ=UTC", time.Hour), "needs a zone and a cron expression"},
		{"two zones", rules("CRON_TZ=UTC TZ=UTC 0 8 * * *", time.Hour), "more than one time zone"},
		{"every", rules("@every 1h", time.Hour), "@every is not supported"},
		{"never fires", rules("0 8 30 2 *", time.Hour), "never fires"},
		{"second rule reported", rules("0 8 * * *", time.Hour, "bogus", time.Hour), `rule 2 ("bogus")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v; want an error containing %q", err, tc.want)
			}
			if _, ok := tc.s.Active(utc(6, 3, 8, 30)); ok {
				t.Error("an invalid schedule has an active window")
			}
		})
	}
	ok := []ingest.Schedule{
		{Always: true},
		rules("@daily", time.Hour),
		rules("  CRON_TZ=Europe/Berlin   0 8 * * 1-5 ", 7*24*time.Hour),
	}
	for _, s := range ok {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
}

// change is one onChange call seen by TestScheduleRun.
type change struct {
	open bool
	at   time.Time
	w    ingest.Window
}

// TestScheduleDenseRuleAllocs checks that a rule firing every five minutes with long
// windows costs Active and Next no more than parseAlloc: each window-finding step used to
// collect every firing in a fresh slice, and Active's search makes up to thousands of steps
// (2.5 MB for the first case; 63 MB for an every-minute rule with a one-week window, found
// by FuzzScheduleValidate's allocation bound). Not parallel: alloctest.Check reads a
// process-wide counter.
func TestScheduleDenseRuleAllocs(t *testing.T) {
	at := utc(6, 3, 8, 30)
	for _, dur := range []time.Duration{5 * time.Minute, time.Hour, ingest.MaxRuleDuration} {
		s := rules("CRON_TZ=UTC */5 * * * *", dur)
		alloctest.Check(t, parseAlloc, len(s.Rules[0].Cron), func() {
			if _, ok := s.Active(at); !ok {
				t.Errorf("%v: not active at %v", dur, at)
			}
			s.Next(at)
		})
	}
}

func TestScheduleRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts at 2000-01-01 00:00 UTC.
		start := time.Now()
		day := func(d, h int) time.Time { return start.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
		s := rules(
			"CRON_TZ=UTC 0 22 * * *", 10*time.Hour, // 22:00 to 08:00, open at start-up
			"CRON_TZ=UTC 0 8 * * *", time.Hour, // touches: extends to 09:00
			"CRON_TZ=UTC 0 12 * * *", time.Hour,
		)
		ctx, cancel := context.WithCancel(t.Context())
		var got []change
		done := make(chan error)
		go func() {
			done <- s.Run(ctx, func(open bool, w ingest.Window) {
				got = append(got, change{open, time.Now(), w})
			})
		}()
		time.Sleep(2*24*time.Hour - time.Hour) // to day 1, 23:00
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		want := []change{
			{true, day(0, 0), ingest.Window{Start: day(-1, 22), End: day(0, 9)}},
			{false, day(0, 9), ingest.Window{Start: day(-1, 22), End: day(0, 9)}},
			{true, day(0, 12), ingest.Window{Start: day(0, 12), End: day(0, 13)}},
			{false, day(0, 13), ingest.Window{Start: day(0, 12), End: day(0, 13)}},
			{true, day(0, 22), ingest.Window{Start: day(0, 22), End: day(1, 9)}},
			{false, day(1, 9), ingest.Window{Start: day(0, 22), End: day(1, 9)}},
			{true, day(1, 12), ingest.Window{Start: day(1, 12), End: day(1, 13)}},
			{false, day(1, 13), ingest.Window{Start: day(1, 12), End: day(1, 13)}},
			{true, day(1, 22), ingest.Window{Start: day(1, 22), End: day(2, 9)}},
		}
		checkChanges(t, got, want)
	})
}

func TestScheduleRunDST(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		berlin := mustZone(t, "Europe/Berlin")
		// Move the bubble's clock to Saturday 2024-03-30 12:00 Berlin.
		time.Sleep(time.Until(time.Date(2024, 3, 30, 12, 0, 0, 0, berlin)))
		s := rules("CRON_TZ=Europe/Berlin 0 22 * * *", 10*time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		var got []change
		done := make(chan error)
		go func() {
			done <- s.Run(ctx, func(open bool, w ingest.Window) {
				got = append(got, change{open, time.Now(), w})
			})
		}()
		time.Sleep(24 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		w := ingest.Window{Start: utc(3, 30, 21, 0), End: utc(3, 31, 7, 0)} // 22:00 CET to 09:00 CEST
		checkChanges(t, got, []change{{true, w.Start, w}, {false, w.End, w}})
	})
}

func TestScheduleRunAlways(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var got []change
		done := make(chan error)
		go func() {
			done <- ingest.Schedule{Always: true}.Run(ctx, func(open bool, w ingest.Window) {
				got = append(got, change{open, time.Now(), w})
			})
		}()
		time.Sleep(365 * 24 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !got[0].open || got[0].w != (ingest.Window{}) {
			t.Fatalf("changes = %v; want one open of the unbounded window", got)
		}
	})
}

func TestScheduleRunInvalid(t *testing.T) {
	t.Parallel()
	err := rules("0 8 * * *", time.Duration(0)).Run(t.Context(), func(bool, ingest.Window) { t.Error("onChange called") })
	if err == nil {
		t.Fatal("Run of an invalid schedule returned nil")
	}
}

func checkChanges(t *testing.T, got, want []change) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d changes, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.open != w.open || !g.at.Equal(w.at) || !g.w.Start.Equal(w.w.Start) || !g.w.End.Equal(w.w.End) {
			t.Errorf("change %d = %v at %v %v; want %v at %v %v", i, g.open, g.at, g.w, w.open, w.at, w.w)
		}
	}
}

// parseAlloc is the allocation bound of FuzzScheduleValidate (alloctest.Check): Validate,
// Active and Next of a rule of n bytes may allocate at most 256 KiB + 16 bytes per byte.
// Measured over seeds and corpus: 41 KiB at most; loading a zone for CRON_TZ costs up to
// 31 KiB (Asia/Gaza), and a zone name that does not exist 122 KiB, because time.LoadLocation
// searches the system zoneinfo and then the embedded database. Before windows reused its
// buffer, an every-minute rule with a one-week window allocated 63 MB
// (TestScheduleDenseRuleAllocs).
var parseAlloc = alloctest.Bound{Base: 256 << 10, PerByte: 16}

// FuzzScheduleValidate feeds cron text through Validate, Active and Next:
// none may panic, a valid rule's windows must contain the instant, and all
// three stay within parseAlloc. Found with the bound: a dense rule made
// Active collect every firing of each search step (63 MB for
// "* * * * *" with a week-long window); windows now merges as it goes into
// one reused buffer (TestScheduleDenseRuleAllocs).
func FuzzScheduleValidate(f *testing.F) {
	for _, tc := range scheduleCases {
		for _, r := range tc.s.Rules {
			f.Add(r.Cron, int64(r.Duration))
		}
	}
	for _, seed := range []string{"CRON_TZ=UTC", "TZ=", "CRON_TZ= 0 8 * * *", "@every 1h", "0-70 * * * *", "*/0 * * * *", "@yearly",
		"CRON_TZ=No/Such_Zone 0 8 * * *"} {
		f.Add(seed, int64(time.Hour))
	}
	at := utc(6, 3, 8, 30)
	f.Fuzz(func(t *testing.T, expr string, dur int64) {
		s := rules(expr, time.Duration(dur))
		alloctest.Check(t, parseAlloc, len(expr), func() {
			if s.Validate() != nil {
				return
			}
			if w, ok := s.Active(at); ok && (at.Before(w.Start) || !at.Before(w.End)) {
				t.Errorf("Active(%v) = %v does not contain it", at, w)
			}
			if w, ok := s.Next(at); ok && !w.Start.After(at) {
				t.Errorf("Next(%v) = %v does not start after it", at, w)
			}
		})
	})
}
