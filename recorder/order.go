package recorder

import (
	"context"
	"log/slog"
	"time"
)

// keepOrder makes a new segment start no earlier than the end of what the
// camera already has in the archive. When the server clock has stepped
// back (or a reconnecting source anchors a little early), every track's
// wall-clock anchor moves forward by the overlap, so segments of a camera
// never overlap in the index; the shift stays until the next timeline
// break re-anchors on the server clock. rec.mu must be held.
func (rec *Recording) keepOrder() {
	last := rec.r.lastEnd(rec.camera)
	if rec.segStart >= last {
		return
	}
	shift := last - rec.segStart
	for _, t := range rec.tracks {
		if t != nil && t.haveAnchor {
			t.anchorWall += shift
		}
	}
	rec.clockShift += shift
	rec.segStart = rec.ref.wallOf(rec.ref.pend[0].pts)
	rec.log.LogAttrs(context.Background(), slog.LevelWarn,
		"server clock is behind the camera's archive; continuing after its end",
		slog.Duration("shift", time.Duration(shift)), slog.Time("archive_end", time.Unix(0, last).UTC()))
}

// lastEnd returns the wall-clock end (Unix ns) of camera's archive: what this
// Recorder has handed to storage, or else the index's last segment.
func (r *Recorder) lastEnd(camera string) int64 {
	r.mu.Lock()
	end := r.ends[camera]
	r.mu.Unlock()
	if t, err := r.store.LastEnd(camera); err == nil && t.UnixNano() > end {
		end = t.UnixNano()
	} else if err != nil {
		r.log.Error("read archive end", "camera", camera, "err", err)
	}
	return end
}

// setLastEnd records the end of a fragment handed to storage.
func (r *Recorder) setLastEnd(camera string, end int64) {
	r.mu.Lock()
	if end > r.ends[camera] {
		r.ends[camera] = end
	}
	r.mu.Unlock()
}
