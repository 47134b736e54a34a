package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/camvault/camvault/internal/settings"
)

// retentionConfig is the archive-keeping section: the defaults for every camera and the
// store-wide free-space floor (feeds storage.Retention).
type retentionConfig struct {
	MaxAge                time.Duration `yaml:"max_age"`                  // 0: no age limit
	MinAge                time.Duration `yaml:"min_age"`                  // never delete younger segments
	MaxBytes              int64         `yaml:"max_bytes" unit:"bytes"`   // per camera; 0: no limit
	MinFree               FreeSpace     `yaml:"min_free"`                 // "5%" or a size; 0: no floor
	PressureIgnoresMinAge bool          `yaml:"pressure_ignores_min_age"` //
	UploadedMaxAge        time.Duration `yaml:"uploaded_max_age"`         // tiered: local copies of uploaded segments go after this; 0: kept until other rules
	Interval              time.Duration `yaml:"interval"`
	BatchSize             int           `yaml:"batch_size"`
}

// cameraRetention overrides the retention defaults for one camera; an absent key inherits.
type cameraRetention struct {
	MaxAge   *time.Duration `yaml:"max_age"`
	MinAge   *time.Duration `yaml:"min_age"`
	MaxBytes *int64         `yaml:"max_bytes" unit:"bytes"`
	Hold     []holdConfig   `yaml:"hold"`
}

// holdConfig is a protected span: segments overlapping [from, to) survive every rule.
type holdConfig struct {
	From   string `yaml:"from"` // RFC 3339
	To     string `yaml:"to"`   // RFC 3339
	Reason string `yaml:"reason"`
}

// span parses the hold's bounds.
func (h holdConfig) span() (from, to time.Time, err error) {
	if from, err = time.Parse(time.RFC3339Nano, h.From); err != nil {
		return from, to, fmt.Errorf("from: want an RFC 3339 time such as 2026-11-25T08:00:00Z, got %q", h.From)
	}
	if to, err = time.Parse(time.RFC3339Nano, h.To); err != nil {
		return from, to, fmt.Errorf("to: want an RFC 3339 time such as 2026-11-25T18:00:00Z, got %q", h.To)
	}
	if !to.After(from) {
		return from, to, fmt.Errorf("to (%s) must be after from (%s)", h.To, h.From)
	}
	return from, to, nil
}

// FreeSpace is a free-space floor: a Size ("50GiB") or a percent of the file system ("5%").
type FreeSpace struct {
	Bytes   int64
	Percent float64
}

// maxPercentDigits bounds the text of a percent value.
const maxPercentDigits = 8

func parseFreeSpace(s string) (FreeSpace, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		p = strings.TrimSpace(p)
		if len(p) > maxPercentDigits || !settings.ValidDecimal(p) {
			return FreeSpace{}, fmt.Errorf("invalid percent %q: want a number from 0 to 99, such as 5%%", s)
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v >= 100 {
			return FreeSpace{}, fmt.Errorf("invalid percent %q: want a number from 0 to 99, such as 5%%", s)
		}
		return FreeSpace{Percent: v}, nil
	}
	n, err := settings.ParseSize(s)
	return FreeSpace{Bytes: n}, err
}

// String returns "5%" or a canonical size.
func (f FreeSpace) String() string {
	if f.Percent > 0 {
		return strconv.FormatFloat(f.Percent, 'f', -1, 64) + "%"
	}
	return settings.FormatSize(f.Bytes)
}

// MarshalText implements encoding.TextMarshaler.
func (f FreeSpace) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FreeSpace) UnmarshalText(b []byte) error {
	v, err := parseFreeSpace(string(b))
	if err == nil {
		*f = v
	}
	return err
}

// UnmarshalYAML decodes a scalar node and reports a bad value with its position in the file.
func (f *FreeSpace) UnmarshalYAML(n ast.Node) error {
	text, err := scalarText(n)
	if err == nil {
		err = f.UnmarshalText([]byte(text))
	}
	return positioned(n, err)
}

func (r *retentionConfig) validate(v *settings.Check) {
	v.Duration("retention.max_age", r.MaxAge, 0, maxRetentionAge)
	v.Duration("retention.min_age", r.MinAge, 0, maxRetentionAge)
	if r.MaxAge > 0 && r.MinAge > r.MaxAge {
		v.Fail("retention.min_age", "must not exceed retention.max_age (%s), got %s",
			settings.FormatDuration(r.MaxAge), settings.FormatDuration(r.MinAge))
	}
	v.Bytes("retention.max_bytes", r.MaxBytes, 0, 1<<60)
	if r.MinFree.Bytes < 0 {
		v.Fail("retention.min_free", "must not be negative, got %s", r.MinFree)
	}
	v.Duration("retention.interval", r.Interval, time.Second, 24*time.Hour)
	v.Count("retention.batch_size", r.BatchSize, 1, 1<<16)
}

// maxRetentionAge bounds max_age and min_age: 100 years.
const maxRetentionAge = 100 * 365 * 24 * time.Hour

// validateCameraRetention checks one camera's overrides.
func validateCameraRetention(v *settings.Check, key string, r *cameraRetention) {
	if r == nil {
		return
	}
	if r.MaxAge != nil {
		v.Duration(key+".max_age", *r.MaxAge, 0, maxRetentionAge)
	}
	if r.MinAge != nil {
		v.Duration(key+".min_age", *r.MinAge, 0, maxRetentionAge)
	}
	if r.MaxBytes != nil {
		v.Bytes(key+".max_bytes", *r.MaxBytes, 0, 1<<60)
	}
	for i, h := range r.Hold {
		if _, _, err := h.span(); err != nil {
			v.Add(err, append(strings.Split(key, "."), "hold", strconv.Itoa(i))...)
		}
	}
}
