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
// break re-anchors on the server clock.
//
// An archive that ends more than ClockTolerance/2 past the server clock
// although this Recorder never saw the clock step back is not followed at
// once: following it would let a source that ran its media time ahead (up
// to ClockTolerance per session) push each next session further into the
// future, and starting at server time would overlap it. keepOrder then
// reports false and the fragment is dropped, until the server clock is
// within ClockTolerance/2 of the archive's end (at most that long; seen
// after a process stalled for seconds and then read a burst of queued
// media, or after a source whose media time raced ahead). rec.mu must be
// held.
func (rec *Recording) keepOrder() bool {
	last := rec.r.lastEnd(rec.camera)
	now := unixNS(rec.r.cfg.Now())
	stepped := rec.r.clockStepped(now)
	if rec.segStart >= last {
		return true
	}
	if !stepped && last > now+int64(rec.r.cfg.ClockTolerance/2) {
		rec.warn(warnArchiveAhead, "camera's archive reaches past the server clock; waiting for the clock",
			slog.Time("archive_end", time.Unix(0, last).UTC()))
		return false
	}
	shift := last - rec.segStart
	for _, t := range rec.tracks {
		if t != nil && t.haveAnchor {
			t.anchorWall += shift
		}
	}
	rec.clockShift += shift
	if stepped {
		rec.stepShift += shift
	}
	rec.segStart = rec.ref.wallOf(rec.ref.pend[0].pts)
	rec.log.LogAttrs(context.Background(), slog.LevelWarn,
		"server clock is behind the camera's archive; continuing after its end",
		slog.Duration("shift", time.Duration(shift)), slog.Time("archive_end", time.Unix(0, last).UTC()))
	return true
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
