package settings

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

const day = 24 * time.Hour

// durationCases drive TestParseDuration and seed FuzzParseDuration.
var durationCases = []struct {
	name string
	in   string
	want time.Duration
	err  string // substring of the error; "" means success
}{
	{name: "zero", in: "0", want: 0},
	{name: "seconds", in: "90s", want: 90 * time.Second},
	{name: "go syntax", in: "1h30m", want: 90 * time.Minute},
	{name: "milliseconds", in: "250ms", want: 250 * time.Millisecond},
	{name: "micro sign", in: "1.5µs", want: 1500 * time.Nanosecond},
	{name: "greek mu", in: "2μs", want: 2 * time.Microsecond},
	{name: "us", in: "3us", want: 3 * time.Microsecond},
	{name: "days", in: "30d", want: 30 * day},
	{name: "days and hours", in: "1d12h", want: 36 * time.Hour},
	{name: "weeks", in: "2w", want: 14 * day},
	{name: "weeks and days", in: "1w2d", want: 9 * day},
	{name: "fraction of a day", in: "1.5d", want: 36 * time.Hour},
	{name: "leading dot", in: ".5s", want: 500 * time.Millisecond},
	{name: "trailing dot", in: "1.s", want: time.Second},
	{name: "nanosecond fraction", in: "1.000000001s", want: time.Second + 1},
	{name: "sub-nanosecond truncated", in: "1.9ns", want: 1},
	{name: "plus sign", in: "+5s", want: 5 * time.Second},
	{name: "negative", in: "-1d", want: -day},
	{name: "largest", in: "2562047h47m16.854775807s", want: math.MaxInt64},
	{name: "smallest", in: "-2562047h47m16.854775808s", want: math.MinInt64},
	{name: "empty", in: "", err: "want a number and a unit"},
	{name: "sign only", in: "-", err: "want a number and a unit"},
	{name: "bare number", in: "60", err: "missing unit"},
	{name: "unknown unit", in: "5y", err: `unknown unit "y"`},
	{name: "uppercase unit", in: "5S", err: `unknown unit "S"`},
	{name: "space", in: "1h 30m", err: `unknown unit "h "`},
	{name: "no number", in: "s", err: "want a number before each unit"},
	{name: "dot only", in: ".s", err: "want a number before each unit"},
	{name: "overflow", in: "2562047h47m16.854775808s", err: "out of range"},
	{name: "overflow days", in: "106752d", err: "out of range"},
	{name: "huge integer", in: "99999999999999999999999s", err: "out of range"},
	{name: "too long", in: strings.Repeat("1s", 40), err: "longer than 64 bytes"},
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range durationCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tc.in)
			checkErr(t, err, tc.err)
			if tc.err == "" && got != tc.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseDurationMatchesStdlib checks that every Go duration means what time.ParseDuration
// says it means.
func TestParseDurationMatchesStdlib(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"1h2m3.5s", "1.5h", "0.000001ms", "72h", "-3m", "1h1h", "300ms", ".25m"} {
		want, err := time.ParseDuration(in)
		if err != nil {
			t.Fatalf("time.ParseDuration(%q): %v", in, err)
		}
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Second, "1m30s"},
		{30 * day, "30d"},
		{36 * time.Hour, "1d12h"},
		{14 * day, "14d"},
		{10 * time.Minute, "10m"},
		{time.Hour + 500*time.Millisecond, "1h0.5s"},
		{time.Second + 1, "1.000000001s"},
		{250 * time.Millisecond, "250ms"},
		{1500, "1.5µs"},
		{-day - time.Second, "-1d1s"},
		{-time.Millisecond, "-1ms"},
		{math.MinInt64, "-106751d23h47m16.854775808s"},
	} {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", int64(tc.in), got, tc.want)
		}
	}
}

// parseAlloc is the allocation bound of the config value fuzz targets (alloctest.Check): a
// parse of n bytes may allocate at most 16 KiB + 16 bytes per byte. Measured over the seeds:
// at most 688 bytes (ParseSize, parseFreeSpace).
var parseAlloc = alloctest.Bound{Base: 16 << 10, PerByte: 16}

// FuzzParseDuration checks that ParseDuration never panics or exceeds parseAlloc, and that an
// accepted value formats canonically to text that parses back to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, tc := range durationCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d time.Duration
		var err error
		alloctest.Check(t, parseAlloc, len(in), func() { d, err = ParseDuration(in) })
		if err != nil {
			return
		}
		if std, err := time.ParseDuration(in); err == nil && std != d && !strings.Contains(in, ".") {
			t.Errorf("ParseDuration(%q) = %v, time.ParseDuration = %v", in, d, std)
		}
		canon := FormatDuration(d)
		back, err := ParseDuration(canon)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %d, formatted %q, parsed back %d, %v", in, d, canon, back, err)
		}
		if again := FormatDuration(back); again != canon {
			t.Fatalf("format not canonical: %q then %q", canon, again)
		}
	})
}

// sizeCases drive TestParseSize and seed FuzzParseSize.
var sizeCases = []struct {
	name string
	in   string
	want int64
	err  string
}{
	{name: "bytes", in: "512", want: 512},
	{name: "zero", in: "0", want: 0},
	{name: "B", in: "512B", want: 512},
	{name: "KiB", in: "64KiB", want: 64 << 10},
	{name: "MiB", in: "16MiB", want: 16 << 20},
	{name: "GiB", in: "50GiB", want: 50 << 30},
	{name: "TiB", in: "2TiB", want: 2 << 40},
	{name: "PiB", in: "1PiB", want: 1 << 50},
	{name: "KB", in: "1KB", want: 1000},
	{name: "kB", in: "1kB", want: 1000},
	{name: "MB", in: "3MB", want: 3e6},
	{name: "GB", in: "5GB", want: 5e9},
	{name: "TB", in: "1TB", want: 1e12},
	{name: "PB", in: "2PB", want: 2e15},
	{name: "fraction", in: "1.5GiB", want: 3 << 29},
	{name: "space before unit", in: "64 KiB", want: 64 << 10},
	{name: "leading zeros", in: "007KiB", want: 7 << 10},
	{name: "largest", in: "9223372036854775807", want: math.MaxInt64},
	{name: "largest with unit", in: "8191.999999999999999PiB", err: "not a whole number"},
	{name: "empty", in: "", err: "want a number of bytes"},
	{name: "unit only", in: "KiB", err: "want a number of bytes"},
	{name: "negative", in: "-1", err: "want a number of bytes"},
	{name: "two dots", in: "1.2.3KiB", err: "want a number of bytes"},
	{name: "unknown unit", in: "5XB", err: `unknown unit "XB"`},
	{name: "ambiguous K", in: "64K", err: `unknown unit "K"`},
	{name: "lowercase kib", in: "64kib", err: `unknown unit "kib"`},
	{name: "fraction of a byte", in: "1.5B", err: "not a whole number of bytes"},
	{name: "overflow", in: "8192PiB", err: "out of range"},
	{name: "overflow digits", in: "9223372036854775808", err: "out of range"},
	{name: "too long", in: strings.Repeat("1", 65), err: "longer than 64 bytes"},
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range sizeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tc.in)
			checkErr(t, err, tc.err)
			if tc.err == "" && got != tc.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{512, "512B"},
		{1000, "1KB"},
		{1024, "1KiB"},
		{1500, "1500B"},
		{64 << 10, "64KiB"},
		{16 << 20, "16MiB"},
		{1e12, "1TB"},
		{3 << 29, "1536MiB"},
		{2048000, "2000KiB"},
		{math.MaxInt64, "9223372036854775807B"},
		{-1, "-1B"},
	} {
		if got := FormatSize(tc.in); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseSize checks that ParseSize never panics, stays within parseAlloc, never returns a
// negative size, and that an accepted value formats canonically to text that parses back to
// the same value.
func FuzzParseSize(f *testing.F) {
	for _, tc := range sizeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var n int64
		var err error
		alloctest.Check(t, parseAlloc, len(in), func() { n, err = ParseSize(in) })
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", in, n)
		}
		canon := FormatSize(n)
		back, err := ParseSize(canon)
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, formatted %q, parsed back %d, %v", in, n, canon, back, err)
		}
	})
}

// checkErr fails t unless err matches want: nil for "", else an error containing want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
