package playback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
)

// Server creates presentations of archive windows.
type Server struct {
	cfg Config
	log *slog.Logger

	// mu guards playing and stats.
	mu      sync.Mutex
	playing int
	stats   Stats
}

// New returns a playback server.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Store == nil {
		return nil, errors.New("playback: a store is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("playback config: %w", err)
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("component", "playback")}, nil
}

// Describe answers DESCRIBE (and a SETUP without DESCRIBE) on an archive
// URL with a presentation of the window it names.
func (s *Server) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	camera, err := parseArchivePath(req.Path)
	if err != nil {
		return nil, &base.Error{Status: 404, Reason: "not an archive of a valid camera name", Phrase: "Camera Not Found", Err: err}
	}
	qStart, qEnd, err := parseWindowQuery(req.Query)
	if err != nil {
		return nil, &base.Error{Status: 400, Reason: "bad archive window", Err: err}
	}
	log := s.log.With("camera", camera, "peer", req.Peer.String())
	if s.cfg.Remote != nil {
		return s.describeMerged(ctx, req, camera, qStart, qEnd, log)
	}
	win, first, err := s.resolveWindow(camera, qStart, qEnd)
	if err != nil {
		return nil, err
	}
	init, err := s.cfg.Store.ReadInit(first.File)
	if err != nil {
		return nil, fmt.Errorf("playback: read init of %s: %w", first.File, err)
	}
	tracks, err := media.TracksFromInit(init)
	if err != nil {
		return nil, fmt.Errorf("playback: tracks of %s: %w", first.File, err)
	}
	return newPresentation(s, win, tracks, req, log)
}

// resolveWindow clamps the asked window to what is recorded (DESIGN.md:
// Names and URLs) and returns it with its first segment.
func (s *Server) resolveWindow(camera string, qStart, qEnd time.Time) (window, storage.SegmentInfo, error) {
	all, err := s.cfg.Store.Segments(camera, time.Time{}, time.Time{}, false)
	if err != nil {
		return window{}, storage.SegmentInfo{}, err
	}
	if len(all) == 0 {
		return window{}, storage.SegmentInfo{}, errCameraNotFound()
	}
	segs, err := s.cfg.Store.Segments(camera, qStart, qEnd, false)
	if err != nil {
		return window{}, storage.SegmentInfo{}, err
	}
	for len(segs) > 0 && !segs[0].End.After(segs[0].Start) && segs[0].State == storage.StateSealed {
		segs = segs[1:]
	}
	if len(segs) == 0 {
		return window{}, storage.SegmentInfo{}, errEmptyWindow()
	}
	last := segs[len(segs)-1]
	w := window{camera: camera, start: segs[0].Start, end: last.End,
		growing: qEnd.IsZero() && last.State == storage.StateOpen}
	if qStart.After(w.start) {
		w.start = qStart
	}
	if !qEnd.IsZero() && qEnd.Before(w.end) {
		w.end = qEnd
	}
	if !w.growing && !w.end.After(w.start) {
		return window{}, storage.SegmentInfo{}, errEmptyWindow()
	}
	return w, segs[0], nil
}

// errCameraNotFound answers a camera with no recording.
func errCameraNotFound() error {
	return &base.Error{Status: 404, Reason: "unknown camera: no recording", Phrase: "Camera Not Found"}
}

// errEmptyWindow answers a window with no recording in it.
func errEmptyWindow() error {
	return &base.Error{Status: 404, Reason: "no recording in the requested window", Phrase: "No Recording In Window"}
}

// admit counts a playing session, refusing past MaxSessions.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.playing >= s.cfg.MaxSessions {
		return false
	}
	s.playing++
	return true
}

func (s *Server) release() {
	s.mu.Lock()
	s.playing--
	s.mu.Unlock()
}
