package main

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

var freeSpaceCases = []struct {
	in   string
	want FreeSpace
	err  bool
}{
	{in: "5%", want: FreeSpace{Percent: 5}},
	{in: "0.5%", want: FreeSpace{Percent: 0.5}},
	{in: " 12 %", want: FreeSpace{Percent: 12}},
	{in: "50GiB", want: FreeSpace{Bytes: 50 << 30}},
	{in: "0", want: FreeSpace{}},
	{in: "100%", err: true},
	{in: "-1%", err: true},
	{in: "%", err: true},
	{in: "5%%", err: true},
	{in: "1e3%", err: true},
	{in: "12 parsecs", err: true},
}

func TestParseFreeSpace(t *testing.T) {
	t.Parallel()
	for _, tc := range freeSpaceCases {
		got, err := parseFreeSpace(tc.in)
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("parseFreeSpace(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// parseAlloc is the allocation bound of FuzzParseFreeSpace (alloctest.Check), the bound of
// settings' FuzzParseSize, which it calls: a parse of n bytes may allocate at most 16 KiB + 16
// bytes per byte. Measured over the seeds: at most 688 bytes.
var parseAlloc = alloctest.Bound{Base: 16 << 10, PerByte: 16}

// FuzzParseFreeSpace checks that parseFreeSpace never panics, stays within parseAlloc, never
// accepts a negative or >= 100% floor, and that an accepted value round-trips through its
// text form.
func FuzzParseFreeSpace(f *testing.F) {
	for _, tc := range freeSpaceCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v FreeSpace
		var err error
		alloctest.Check(t, parseAlloc, len(in), func() { v, err = parseFreeSpace(in) })
		if err != nil {
			return
		}
		if v.Bytes < 0 || v.Percent < 0 || v.Percent >= 100 {
			t.Fatalf("parseFreeSpace(%q) = %+v", in, v)
		}
		back, err := parseFreeSpace(v.String())
		if err != nil || back != v {
			t.Fatalf("parseFreeSpace(%q) = %+v, text %q, back %+v, %v", in, v, v.String(), back, err)
		}
	})
}

func TestRetentionConfig(t *testing.T) {
	t.Parallel()
	body := `
retention: { max_age: 30d, min_age: 1d, max_bytes: 2TiB, min_free: 50GiB, interval: 30s }
cameras:
  lobby:
    retention:
      max_age: 90d
      hold:
        - {from: "2026-11-20T08:00:00Z", to: "2026-11-20T18:00:00+01:00", reason: incident}
  frontdoor: {}
`
	cfg, err := loadConfig(writeConfig(t, body))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Retention
	if r.MaxAge != 30*24*time.Hour || r.MinAge != 24*time.Hour || r.MaxBytes != 2<<40 ||
		r.MinFree != (FreeSpace{Bytes: 50 << 30}) || r.Interval != 30*time.Second || r.BatchSize != 256 {
		t.Errorf("retention = %+v", r)
	}
	lobby := cfg.Cameras["lobby"].Retention
	if lobby == nil || lobby.MaxAge == nil || *lobby.MaxAge != 90*24*time.Hour || lobby.MinAge != nil || len(lobby.Hold) != 1 {
		t.Fatalf("lobby retention = %+v", lobby)
	}
	from, to, err := lobby.Hold[0].span()
	if err != nil || to.Sub(from) != 9*time.Hour {
		t.Errorf("hold span %v..%v, %v", from, to, err)
	}

	for body, want := range map[string]string{
		"retention: { min_free: 100% }\n":           "invalid percent",
		"retention: { max_age: 1d, min_age: 2d }\n": "retention.min_age: must not exceed retention.max_age",
		"retention: { interval: 0 }\n":              "retention.interval: must be between",
		"cameras:\n  c1:\n    retention: { hold: [{from: \"yesterday\", to: \"2026-11-20T18:00:00Z\"}] }\n":            "cameras.c1.retention.hold.0: from: want an RFC 3339 time",
		"cameras:\n  c1:\n    retention: { hold: [{from: \"2026-11-20T18:00:00Z\", to: \"2026-11-20T08:00:00Z\"}] }\n": "must be after from",
	} {
		_, err := loadConfig(writeConfig(t, body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}
