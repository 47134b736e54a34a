package storage

import (
	"fmt"
	"path"
	"strings"
	"time"
)

const (
	recordingsDir = "recordings"
	indexFile     = "index.db"
	segmentExt    = ".mp4"
	// nameLayout is the file name of a segment: its UTC start time.
	nameLayout = "150405.000Z"
	dayLayout  = "2006-01-02"
)

// segmentPath returns the path of a segment, relative to the data
// directory: recordings/{camera}/{YYYY-MM-DD}/{HHMMSS.mmm}Z.mp4 in UTC.
func segmentPath(camera string, start time.Time) string {
	t := start.UTC()
	return path.Join(recordingsDir, camera, t.Format(dayLayout), t.Format(nameLayout)+segmentExt)
}

// parseSegmentPath is the inverse of segmentPath. The start it returns has
// millisecond precision; the exact start comes from the file's metadata box.
func parseSegmentPath(p string) (camera string, start time.Time, err error) {
	parts := strings.Split(p, "/")
	if len(parts) != 4 || parts[0] != recordingsDir || !strings.HasSuffix(parts[3], segmentExt) {
		return "", time.Time{}, fmt.Errorf("not a segment path: %q", p)
	}
	camera = parts[1]
	if err := ValidCamera(camera); err != nil {
		return "", time.Time{}, err
	}
	start, err = time.Parse(dayLayout+" "+nameLayout, parts[2]+" "+strings.TrimSuffix(parts[3], segmentExt))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("segment path %q: %w", p, err)
	}
	return camera, start, nil
}
