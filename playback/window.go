package playback

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// archivePrefix is the path prefix of archive presentations (DESIGN.md).
const archivePrefix = "archive/"

// IsArchivePath reports whether an RTSP path (no leading "/") names an
// archive presentation.
func IsArchivePath(path string) bool {
	return path == "archive" || strings.HasPrefix(path, archivePrefix)
}

// parseArchivePath returns the camera of "archive/{camera}".
func parseArchivePath(path string) (string, error) {
	camera, ok := strings.CutPrefix(strings.TrimSuffix(path, "/"), archivePrefix)
	if !ok || strings.Contains(camera, "/") {
		return "", fmt.Errorf("not an archive path: %q", path)
	}
	if err := storage.ValidCamera(camera); err != nil {
		return "", err
	}
	return camera, nil
}

// parseWindowQuery reads start= and end= from an archive URL's query. Both
// are optional; a zero time means unbounded.
func parseWindowQuery(raw string) (start, end time.Time, err error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return start, end, fmt.Errorf("archive query: %w", err)
	}
	for key := range q {
		if key != "start" && key != "end" {
			return start, end, fmt.Errorf("archive query: unknown parameter %q", key)
		}
	}
	if v := q.Get("start"); v != "" {
		if start, err = parseTime(v); err != nil {
			return start, end, fmt.Errorf("archive query start: %w", err)
		}
	}
	if v := q.Get("end"); v != "" {
		if end, err = parseTime(v); err != nil {
			return start, end, fmt.Errorf("archive query end: %w", err)
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return start, end, fmt.Errorf("archive query: end %v is not after start %v", end, start)
	}
	return start, end, nil
}

// parseTime accepts RFC 3339 (UTC or with an offset, fractions allowed) or
// Unix seconds (with an optional fraction).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s < 0 || s > 1<<40 || len(frac) > 9 {
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

// window is the span of a camera's archive that a presentation covers.
type window struct {
	camera string
	// start is npt 0: the later of the requested start and the first
	// recorded instant.
	start time.Time
	// end is the exclusive end: the earlier of the requested end and the
	// last recorded instant. For a growing window it is where the
	// recording stood at DESCRIBE.
	end time.Time
	// growing reports a window without a requested end on a camera that is
	// recording: it follows the recording (time-shift).
	growing bool
}

// duration returns the window's length at DESCRIBE.
func (w window) duration() time.Duration { return w.end.Sub(w.start) }
