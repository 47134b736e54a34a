package headers_test

import (
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// decimalCases drive ParseScale/ParseSpeed and the fuzz seeds
// (RTSP-RNG-13/14).
var decimalCases = []struct {
	in           string
	scale, speed float64 // 0: refused
}{
	{"1", 1, 1},
	{"2.0", 2, 2},
	{"-1.0", -1, 0},
	{"0.5", 0.5, 0.5},
	{" 4 ", 4, 4},
	{"2.000000", 2, 2}, // VLC "%f"
	{"1.", 1, 1},
	{"0", 0, 0},
	{"-0.0", 0, 0},
	{"", 0, 0},
	{"-", 0, 0},
	{".5", 0, 0},
	{"+2", 0, 0},
	{"1e3", 0, 0},
	{"NaN", 0, 0},
	{"Inf", 0, 0},
	{"1.0-2.5", 0, 0},
	{"12345678901", 0, 0},
	{"1.00000000000000000000000", 0, 0},
}

func TestParseScaleSpeed(t *testing.T) {
	t.Parallel()
	for _, tc := range decimalCases {
		s, err := headers.ParseScale(tc.in)
		if (err == nil) != (tc.scale != 0) || s != tc.scale {
			t.Errorf("headers.ParseScale(%q) = %v, %v; want %v", tc.in, s, err, tc.scale)
		}
		v, err := headers.ParseSpeed(tc.in)
		if (err == nil) != (tc.speed != 0) || v != tc.speed {
			t.Errorf("headers.ParseSpeed(%q) = %v, %v; want %v", tc.in, v, err, tc.speed)
		}
	}
	for in, want := range map[float64]string{2: "2.0", -1: "-1.0", 0.5: "0.5", 1.25: "1.25"} {
		if got := headers.FormatDecimal(in); got != want {
			t.Errorf("headers.FormatDecimal(%v) = %q, want %q", in, got, want)
		}
	}
}

// framesCases drive ParseFrames (ONVIF-07); want "" means 400.
var framesCases = []struct{ in, want string }{
	{"intra", "intra"},
	{"Intra/500", "intra/500"},
	{"predicted", "predicted"},
	{" all ", "all"},
	{"predicted/100", ""},
	{"intra/", ""},
	{"intra/x", ""},
	{"intra/12345678901", ""},
	{"keyframes", ""},
	{"", ""},
}

func TestParseFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range framesCases {
		got, err := headers.ParseFrames(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("headers.ParseFrames(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseYesNo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"yes": 1, "No": 0, " YES ": 1, "": -1, "y": -1, "true": -1} {
		got, err := headers.ParseYesNo(in)
		if (want < 0) != (err != nil) || (want == 1) != got {
			t.Errorf("headers.ParseYesNo(%q) = %v, %v", in, got, err)
		}
	}
}

// TestAcceptsSDP covers RTSP-M-06.
func TestAcceptsSDP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{nil, true},
		{[]string{"application/sdp"}, true},
		{[]string{"application/SDP; charset=utf-8"}, true},
		{[]string{"text/html, application/*"}, true},
		{[]string{"text/html", "*/*;q=0.2"}, true},
		{[]string{"application/sdp;q=0"}, false},
		{[]string{"text/html, application/json"}, false},
		{[]string{"garbage;;"}, false},
	} {
		h := base.Header{}
		for _, a := range tc.accept {
			h.Add("Accept", a)
		}
		if got := headers.AcceptsSDP(h); got != tc.want {
			t.Errorf("Accept %q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// FuzzScale checks ParseScale and ParseSpeed: no panic, a parsed value is
// finite, non-zero and survives FormatDecimal; parsing stays within
// rtsptest.ParseAlloc.
func FuzzScale(f *testing.F) {
	for _, tc := range decimalCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, parse := range []func(string) (float64, error){headers.ParseScale, headers.ParseSpeed} {
			var v float64
			var err error
			alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { v, err = parse(in) })
			if err != nil {
				continue
			}
			back, err := parse(headers.FormatDecimal(v))
			if err != nil || back != v || v == 0 || v > 1e10 || v < -1e10 {
				t.Fatalf("%q: %v -> %q -> %v, %v", in, v, headers.FormatDecimal(v), back, err)
			}
		}
	})
}

// FuzzSpeed is FuzzScale seeded for Speed alone, within rtsptest.ParseAlloc.
func FuzzSpeed(f *testing.F) {
	f.Add("2.5")
	f.Add("0.000")
	f.Fuzz(func(t *testing.T, in string) {
		var v float64
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { v, err = headers.ParseSpeed(in) })
		if err == nil && v <= 0 {
			t.Fatalf("%q: speed %v", in, v)
		}
	})
}

// FuzzRateControl checks the yes|no parser of Rate-Control and Immediate,
// within rtsptest.ParseAlloc.
func FuzzRateControl(f *testing.F) {
	for _, s := range []string{"yes", "no", "No", "maybe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v bool
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { v, err = headers.ParseYesNo(in) })
		if err != nil {
			return
		}
		w := "no"
		if v {
			w = "yes"
		}
		if again, err := headers.ParseYesNo(w); err != nil || again != v {
			t.Fatalf("%q: %v", in, v)
		}
	})
}

// FuzzFrames checks ParseFrames: no panic, the result is canonical (it
// parses to itself), within rtsptest.ParseAlloc.
func FuzzFrames(f *testing.F) {
	for _, tc := range framesCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v string
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { v, err = headers.ParseFrames(in) })
		if err != nil {
			return
		}
		if again, err := headers.ParseFrames(v); err != nil || again != v {
			t.Fatalf("%q -> %q -> %q, %v", in, v, again, err)
		}
	})
}

// FuzzAccept checks AcceptsSDP does not panic on any Accept value and stays
// within rtsptest.ParseAlloc.
func FuzzAccept(f *testing.F) {
	f.Add("application/sdp")
	f.Add("text/html, */*;q=0.1")
	f.Fuzz(func(t *testing.T, in string) {
		h := base.Header{}
		h.Set("Accept", in)
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { headers.AcceptsSDP(h) })
	})
}
