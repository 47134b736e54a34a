package headers_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

func npt(d time.Duration) *headers.RangePoint { return &headers.RangePoint{Offset: d} }
func clock(s string) *headers.RangePoint {
	t, err := time.Parse("2006-01-02T15:04:05.999999999Z", s)
	if err != nil {
		panic(err)
	}
	return &headers.RangePoint{Clock: t}
}

// rangeCases drive decode, encode and the fuzz seeds (RTSP-RNG-01..03).
var rangeCases = []struct {
	name string
	in   string
	out  string
	want headers.Range
}{
	{"RTSP-RNG-06 npt=0-", "npt=0-", "npt=0.000-", headers.Range{Unit: headers.RangeNPT, Start: npt(0)}},
	{"CLI-07 ffmpeg npt=0.000-", "npt=0.000-", "", headers.Range{Unit: headers.RangeNPT, Start: npt(0)}},
	{"npt closed", "npt=123.45-125", "npt=123.450-125.000", headers.Range{Unit: headers.RangeNPT, Start: npt(123450 * time.Millisecond), End: npt(125 * time.Second)}},
	{"npt hh:mm:ss", "npt=12:05:35.3-", "npt=43535.300-", headers.Range{Unit: headers.RangeNPT, Start: npt(43535300 * time.Millisecond)}},
	{"npt hours no leading zero", "npt=1:00:00-", "npt=3600.000-", headers.Range{Unit: headers.RangeNPT, Start: npt(time.Hour)}},
	{"RTSP-RNG-06 npt=now-", "npt=now-", "", headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{Now: true}}},
	{"npt open start", "npt=-30", "npt=-30.000", headers.Range{Unit: headers.RangeNPT, End: npt(30 * time.Second)}},
	{"npt nanoseconds kept", "npt=1.000000001-", "", headers.Range{Unit: headers.RangeNPT, Start: npt(time.Second + 1)}},
	{"npt extra digits truncated", "npt=1.1234567891234-", "npt=1.123456789-", headers.Range{Unit: headers.RangeNPT, Start: npt(1123456789)}},
	{"RTSP-RNG-03 blanks and comma (live555, GStreamer)", "npt = 0,5 - ", "npt=0.500-", headers.Range{Unit: headers.RangeNPT, Start: npt(500 * time.Millisecond)}},
	{"npt trailing dot", "npt=5.-", "npt=5.000-", headers.Range{Unit: headers.RangeNPT, Start: npt(5 * time.Second)}},
	{"RTSP-RNG-01 clock RFC example", "clock=19961108T143720.25Z-", "", headers.Range{Unit: headers.RangeClock, Start: clock("1996-11-08T14:37:20.25Z")}},
	{
		"clock closed ONVIF", "clock=20090615T114900.440Z-20090615T115000Z", "clock=20090615T114900.44Z-20090615T115000Z",
		headers.Range{Unit: headers.RangeClock, Start: clock("2009-06-15T11:49:00.44Z"), End: clock("2009-06-15T11:50:00Z")},
	},
	{"RTSP-RNG-03 clock 9 fraction digits", "clock=20261125T101500.123456789Z-", "", headers.Range{Unit: headers.RangeClock, Start: clock("2026-11-25T10:15:00.123456789Z")}},
	{"RTSP-RNG-03 clock open start", "clock=-20261125T101500Z", "", headers.Range{Unit: headers.RangeClock, End: clock("2026-11-25T10:15:00Z")}},
	{"RTSP-RNG-03 clock without seconds", "clock=19961108T2115Z-", "clock=19961108T211500Z-", headers.Range{Unit: headers.RangeClock, Start: clock("1996-11-08T21:15:00Z")}},
	{
		"RTSP-RNG-01 smpte RFC example", "smpte=10:07:00-10:07:33:05.01", "",
		headers.Range{Unit: headers.RangeSMPTE, Start: npt(10*time.Hour + 7*time.Minute), End: &headers.RangePoint{Offset: 10*time.Hour + 7*time.Minute + 33*time.Second, Frames: 5, Subframes: 1}},
	},
	{"smpte-25", "smpte-25=0:10:20-", "", headers.Range{Unit: headers.RangeSMPTE25, Start: npt(10*time.Minute + 20*time.Second)}},
	{"smpte-30-drop frames", "smpte-30-drop=0:00:01:29-", "", headers.Range{Unit: headers.RangeSMPTE30Drop, Start: &headers.RangePoint{Offset: time.Second, Frames: 29}}},
	{
		"RTSP-RNG-08 time parameter", "npt=10-;time=19970123T153600Z", "npt=10.000-;time=19970123T153600Z",
		headers.Range{Unit: headers.RangeNPT, Start: npt(10 * time.Second), Time: clock("1997-01-23T15:36:00Z").Clock},
	},
}

// badRanges fail with 400, or 501 for an unknown unit (RTSP-RNG-02).
var badRanges = []struct {
	in     string
	status int
}{
	{"frames=0-", 501}, {"", 400}, {"npt", 400}, {"npt=", 400}, {"npt=-", 400}, {"npt=abc-", 400},
	{"npt=-5-", 400}, {"npt=1:60:00-", 400}, {"npt=99999999999-", 400}, {"npt=.5-", 400},
	{"clock=20261325T101500Z-", 400}, {"clock=20261125T101500.1234567890Z-", 400}, {"clock=2026112T101500Z-", 400},
	{"clock=-", 400}, {"smpte=-10:00:00", 400}, {"smpte-25=0:00:00:25-", 400}, {"smpte=0:00:00:30-", 400},
	{"smpte=0:00-", 400}, {"npt=0-;time=bad", 400},
}

func TestRangeUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			var r headers.Range
			if err := r.Unmarshal(tc.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, tc.want) {
				t.Fatalf("got %+v %+v %+v\nwant %+v %+v %+v", r, r.Start, r.End, tc.want, tc.want.Start, tc.want.End)
			}
		})
	}
}

func TestRangeMarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.out
			if want == "" {
				want = tc.in
			}
			if got := tc.want.Marshal(); got != want {
				t.Fatalf("got %q want %q", got, want)
			}
		})
	}
}

func TestRangeUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range badRanges {
		var r headers.Range
		err := r.Unmarshal(tc.in)
		var e *base.Error
		if !errors.As(err, &e) || e.Status != tc.status {
			t.Errorf("%q: got %v, want status %d", tc.in, err, tc.status)
		}
		if tc.status == 501 && !errors.Is(err, headers.ErrRangeUnit) {
			t.Errorf("%q: not ErrRangeUnit", tc.in)
		}
	}
}

func TestRangeUnitString(t *testing.T) {
	t.Parallel()
	for u, want := range map[headers.RangeUnit]string{headers.RangeNPT: "npt", headers.RangeClock: "clock", headers.RangeSMPTE: "smpte",
		headers.RangeSMPTE30Drop: "smpte-30-drop", headers.RangeSMPTE25: "smpte-25", 0: "unknown", 9: "unknown"} {
		if u.String() != want {
			t.Errorf("%d: %q", u, u.String())
		}
	}
}

// FuzzRange checks no panic, allocations within rtsptest.ParseAlloc, and that
// canonical output re-parses equal.
// Crashers in testdata/fuzz/FuzzRange:
//   - 6629b7ab14ae39d1 "npt=9227000000-": seconds overflowed time.Duration
//     before the range check; the check now comes before the multiplication.
func FuzzRange(f *testing.F) {
	for _, tc := range rangeCases {
		f.Add(tc.in)
	}
	for _, tc := range badRanges {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var r headers.Range
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = r.Unmarshal(in) })
		if err != nil {
			return
		}
		out := r.Marshal()
		var again headers.Range
		if err := again.Unmarshal(out); err != nil {
			t.Fatalf("re-parse %q of %q: %v", out, in, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("re-parse of %q differs: %+v / %+v", out, r, again)
		}
	})
}
