package settings_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

var timeCases = []struct {
	name, in string
	want     time.Time // zero: an error
}{
	{"rfc3339 utc", "2026-03-29T10:00:00Z", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)},
	{"rfc3339 offset", "2026-03-29T12:00:00+02:00", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)},
	{"rfc3339 fraction", "2026-03-29T10:00:00.25Z", time.Date(2026, 3, 29, 10, 0, 0, 250e6, time.UTC)},
	{"unix", "1774778400", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)},
	{"unix fraction", "1774778400.5", time.Date(2026, 3, 29, 10, 0, 0, 5e8, time.UTC)},
	{"unix zero", "0", time.Unix(0, 0).UTC()},
	{"negative", "-1", time.Time{}},
	{"plus sign", "+5", time.Unix(5, 0).UTC()},
	{"empty fraction", "5.", time.Unix(5, 0).UTC()},
	{"leading zeros", "0005", time.Unix(5, 0).UTC()},
	{"ten fraction digits", "5.1234567890", time.Time{}},
	{"too far", "99999999999999", time.Time{}},
	{"words", "yesterday", time.Time{}},
	{"empty", "", time.Time{}},
	{"long", strings.Repeat("1", 100), time.Time{}},
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, tc := range timeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := settings.ParseTime(tc.in)
			if tc.want.IsZero() {
				if err == nil {
					t.Fatalf("ParseTime(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("ParseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseTime checks that any instant either fails or gives a UTC time
// that reads back the same through RFC 3339, and that ParseInstant gives
// the same time exactly when it lies in [MinInstant, MaxInstant].
func FuzzParseTime(f *testing.F) {
	for _, tc := range timeCases {
		f.Add(tc.in)
	}
	f.Add("1677-09-21T00:12:43.145224191Z")
	f.Add("2262-04-11T23:47:16.854775807Z")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := settings.ParseTime(in)
		inst, ierr := settings.ParseInstant(in)
		inRange := err == nil && !got.Before(settings.MinInstant) && !got.After(settings.MaxInstant)
		if (ierr == nil) != inRange || inRange && !inst.Equal(got) {
			t.Fatalf("%q: ParseTime %v, %v; ParseInstant %v, %v", in, got, err, inst, ierr)
		}
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: location %v", in, got.Location())
		}
		if back, err := settings.ParseTime(got.Format(time.RFC3339Nano)); err == nil && !back.Equal(got) {
			t.Fatalf("%q: %v reads back as %v", in, got, back)
		}
	})
}

// TestParseInstant: review finding 1 on issue 11. The API's instants stay
// inside what int64 Unix nanoseconds hold, where ParseTime takes years
// 0000 to 9999 and Unix seconds up to 2^40.
func TestParseInstant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2026-03-29T10:00:00Z", true},
		{"0", true},
		{"1677-09-21T00:12:43.145224192Z", true},
		{"2262-04-11T23:47:16.854775807Z", true},
		{"1677-09-21T00:12:43.145224191Z", false},
		{"2262-04-11T23:47:16.854775808Z", false},
		{"1000-01-01T00:00:00Z", false},
		{"3000-01-01T00:00:00Z", false},
		{"1099511627776", false},
		{"yesterday", false},
	} {
		got, err := settings.ParseInstant(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseInstant(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			continue
		}
		if want, _ := settings.ParseTime(tc.in); tc.ok && !got.Equal(want) {
			t.Errorf("ParseInstant(%q) = %v, ParseTime %v", tc.in, got, want)
		}
	}
}
