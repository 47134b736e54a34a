package settings

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxUnixSeconds bounds an instant in Unix seconds (year 36812).
const maxUnixSeconds = 1 << 40

// ParseTime parses an instant as archive URLs and HTTP parameters take it: RFC 3339 (UTC or
// with an offset, fractions allowed) or Unix seconds with an optional fraction of up to 9
// digits. The result is in UTC. It is the one parser of these instants: playback's archive
// URLs and the HTTP API use it.
func ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s < 0 || s > maxUnixSeconds || len(frac) > 9 {
		return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor Unix seconds", v)
	}
	var ns int64
	if frac != "" {
		f, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: bad fraction", v)
		}
		ns = int64(f)
	}
	return time.Unix(s, ns).UTC(), nil
}

// Bounds of ParseInstant: the instants int64 Unix nanoseconds hold, as the
// storage index keeps them.
var (
	MinInstant = time.Unix(0, math.MinInt64).UTC() // 1677-09-21T00:12:43.145224192Z
	MaxInstant = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// ParseInstant is ParseTime for the HTTP API: it refuses instants outside
// [MinInstant, MaxInstant], which the index could not store (a hold's
// times would wrap) and which no recording has. Playback's archive URLs
// keep ParseTime, whose wider range RTSP clients may already send.
func ParseInstant(v string) (time.Time, error) {
	t, err := ParseTime(v)
	if err == nil && (t.Before(MinInstant) || t.After(MaxInstant)) {
		return time.Time{}, fmt.Errorf("time %q is outside %s to %s", v,
			MinInstant.Format(time.DateOnly), MaxInstant.Format(time.DateOnly))
	}
	return t, err
}
