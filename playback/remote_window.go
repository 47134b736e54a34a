package playback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
)

// describeMerged is Describe with Config.Remote: the window and its tracks
// come from the local index and the object store.
func (s *Server) describeMerged(ctx context.Context, req *rtsp.DescribeRequest, camera string, qStart, qEnd time.Time, log *slog.Logger) (rtsp.Presentation, error) {
	fail := &failures{s: s, log: log}
	win, first, tl, err := s.resolveMerged(ctx, camera, qStart, qEnd, fail)
	if err != nil {
		return nil, err
	}
	init, err := tl.initOf(ctx, &first)
	if err != nil && isRemote(&first) {
		fail.read(err, readReq{key: first.Upload.Key})
		return nil, &base.Error{Status: 503, Reason: "object store unreachable", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("playback: read init of %s: %w", first.File, err)
	}
	tracks, err := media.TracksFromInit(init)
	if err != nil {
		return nil, fmt.Errorf("playback: tracks of %s%s: %w", first.File, first.Upload.Key, err)
	}
	p, err := newPresentation(s, win, tracks, req, log)
	if err != nil {
		return nil, err
	}
	p.tl = tl
	return p, nil
}

// resolveMerged clamps the asked window to what the local index and the
// object store hold, as resolveWindow does to the local index, and returns
// it with the segment of its first claim and the presentation's timeline.
// The object store is listed from the asked start (without one,
// RemoteHorizon before the first local segment, or before now) to the asked
// end (without one, now: a growing window follows the local recording).
func (s *Server) resolveMerged(ctx context.Context, camera string, qStart, qEnd time.Time, fail *failures) (window, storage.SegmentInfo, *timeline, error) {
	local, err := s.cfg.Store.Segments(camera, time.Time{}, time.Time{}, false)
	if err != nil {
		return window{}, storage.SegmentInfo{}, nil, err
	}
	hi := qEnd
	if hi.IsZero() {
		hi = time.Now()
	}
	lo, from := qStart, qStart
	if lo.IsZero() {
		lo = hi
		if len(local) > 0 && local[0].Start.Before(lo) {
			lo = local[0].Start
		}
		lo = lo.Add(-s.cfg.RemoteHorizon)
		from = lo
	}
	tl := newTimeline(s, camera, lo, hi, fail)
	first, err := tl.claimFrom(ctx, from)
	empty := errors.Is(err, errNoMedia) || err == nil && !qEnd.IsZero() && !first.from.Before(qEnd)
	switch {
	case empty && fail.listFailed():
		return window{}, storage.SegmentInfo{}, nil, &base.Error{Status: 503, Reason: "object store unreachable: window unknown"}
	case empty && len(local) == 0:
		return window{}, storage.SegmentInfo{}, nil, errCameraNotFound()
	case empty:
		return window{}, storage.SegmentInfo{}, nil, errEmptyWindow()
	}
	if err != nil {
		return window{}, storage.SegmentInfo{}, nil, err
	}
	w := window{camera: camera, start: maxTime(first.from, qStart)}
	if n := len(local); qEnd.IsZero() && n > 0 && local[n-1].State == storage.StateOpen {
		w.growing, w.end = true, local[n-1].End
	} else {
		end := qEnd
		if end.IsZero() {
			end = hi
			if n > 0 && local[n-1].End.After(end) {
				end = local[n-1].End
			}
		}
		if w.end, err = tl.endBefore(ctx, end); err != nil {
			return window{}, storage.SegmentInfo{}, nil, err
		}
	}
	if !w.growing && !w.end.After(w.start) {
		return window{}, storage.SegmentInfo{}, nil, errEmptyWindow()
	}
	return w, first.seg, tl, nil
}

// initOf returns a segment's ftyp+moov: from its file or, for a remote
// segment or a local one whose file went after its upload, from its object
// (read once per presentation).
func (tl *timeline) initOf(ctx context.Context, seg *storage.SegmentInfo) ([]byte, error) {
	if !isRemote(seg) {
		b, err := tl.store.ReadInit(seg.File)
		if err == nil || seg.Upload.Key == "" || tl.remote == nil {
			return b, err
		}
	}
	if b, ok := tl.cachedInit(seg.Upload.Key); ok {
		return b, nil
	}
	full := *seg
	if len(full.Fragments) == 0 {
		segs, err := tl.store.Segments(tl.camera, seg.Start, seg.Start.Add(time.Nanosecond), true)
		if err != nil || len(segs) == 0 || !segs[0].Start.Equal(seg.Start) {
			return nil, fmt.Errorf("playback: seek table of %s: %w", seg.Upload.Key, errors.Join(err, errNoMedia))
		}
		full.Fragments = segs[0].Fragments
	}
	r, err := initReq(&full)
	if err != nil {
		return nil, err
	}
	b, err := tl.readAt(ctx, r)
	if err != nil {
		return nil, err
	}
	tl.fail.s.count(func(st *Stats) { st.RemoteReads++ })
	tl.keepInit(seg.Upload.Key, b)
	return b, nil
}
