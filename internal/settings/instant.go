package settings

import (
	"fmt"
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
