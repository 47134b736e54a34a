package recorder

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
)

// Recorder runs the recordings of all cameras on one Store.
type Recorder struct {
	cfg   Config
	store *storage.Store
	log   *slog.Logger

	// mu guards the fields below.
	mu       sync.Mutex
	active   map[string]*Recording
	ends     map[string]int64 // camera -> end (Unix ns) of its last fragment handed to storage
	closed   bool
	granted  int64                   // bytes of cfg.MaxBuffer reserved by recordings
	draining map[*Recording]struct{} // ended recordings with fragments still queued to storage
	maxNow   int64                   // the latest server clock seen at New, Open and segment starts

	book cameraBook // per-camera stats, under their own lock (camera_stats.go)
}

// New returns a Recorder writing to store.
func New(cfg Config, store *storage.Store) (*Recorder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("recorder config: %w", err)
	}
	return &Recorder{cfg: cfg, store: store, log: cfg.Logger.With("component", "recorder"),
		active: make(map[string]*Recording), ends: make(map[string]int64),
		draining: make(map[*Recording]struct{}), maxNow: unixNS(cfg.Now())}, nil
}

// ValidCamera reports whether name may be recorded under.
func (r *Recorder) ValidCamera(name string) error { return storage.ValidCamera(name) }

// OpenOptions says how a recording's packets arrive.
type OpenOptions struct {
	// Backpressure lets WriteRTP wait, up to Config.BackpressureWait, for
	// room in a full storage write queue before it drops a fragment, and
	// for storage to write the fragments the recording queued before it
	// ends over its memory budget. Set it only when the goroutine that calls WriteRTP reads
	// this recording's source alone, and the source slows down when it is
	// not read: a TCP connection (an interleaved push or a pull over TCP).
	// Never for a goroutine that reads several sources, such as the RTSP
	// server's shared UDP socket: one full queue would stall them all.
	Backpressure bool
}

// Open starts a recording of camera with the given tracks (in SDP order;
// tracks with an unknown codec are ignored). It fails with ErrBusy while
// another recording of the camera is open, and with ErrMemoryExhausted
// while the recordings' buffered media leaves less than
// Config.MaxRecordingBuffer of Config.MaxBuffer.
func (r *Recorder) Open(camera string, tracks []*media.Track, opt OpenOptions) (*Recording, error) {
	if err := storage.ValidCamera(camera); err != nil {
		return nil, err
	}
	if !r.haveRoom() {
		return nil, fmt.Errorf("%s: %w", camera, ErrMemoryExhausted)
	}
	r.clockStepped(unixNS(r.cfg.Now()))
	rec, err := newRecording(r, camera, tracks, opt)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if _, ok := r.active[camera]; ok {
		return nil, fmt.Errorf("%s: %w", camera, ErrBusy)
	}
	r.active[camera] = rec
	r.book.open(rec, unixNS(r.cfg.Now()))
	rec.log.Info("recording started", "tracks", len(rec.tracks))
	return rec, nil
}

// release gives back an ended recording's camera; what it still has queued
// to storage stays reserved until written. rec.mu must be held.
func (r *Recorder) release(rec *Recording) {
	r.mu.Lock()
	if r.active[rec.camera] == rec {
		delete(r.active, rec.camera)
	}
	if rec.granted > 0 {
		r.draining[rec] = struct{}{}
	}
	r.mu.Unlock()
}

// clockStepped records the server clock now (Unix ns) and reports whether
// it is more than ClockTolerance behind the latest seen: the clock stepped
// back.
func (r *Recorder) clockStepped(now int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	stepped := now < r.maxNow-int64(r.cfg.ClockTolerance)
	r.maxNow = max(r.maxNow, now)
	return stepped
}

// Close ends every open recording and waits until their segments are sealed.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	recs := make([]*Recording, 0, len(r.active))
	for _, rec := range r.active {
		recs = append(recs, rec)
	}
	r.mu.Unlock()
	for _, rec := range recs {
		rec.Close()
	}
	for _, rec := range recs {
		rec.Wait()
	}
	return nil
}
