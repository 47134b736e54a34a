package playback

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/camvault/camvault/internal/settings"
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
		if start, err = settings.ParseTime(v); err != nil {
			return start, end, fmt.Errorf("archive query start: %w", err)
		}
	}
	if v := q.Get("end"); v != "" {
		if end, err = settings.ParseTime(v); err != nil {
			return start, end, fmt.Errorf("archive query end: %w", err)
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return start, end, fmt.Errorf("archive query: end %v is not after start %v", end, start)
	}
	return start, end, nil
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
