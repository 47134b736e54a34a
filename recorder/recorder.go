package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
)

var (
	// ErrBusy is returned by Open when the camera is already recording.
	ErrBusy = errors.New("camera is already recording")
	// ErrClosed is returned by Open after Close.
	ErrClosed = errors.New("recorder closed")
	// ErrNoTracks is returned by Open for a presentation without a usable track.
	ErrNoTracks = errors.New("no recordable track")
)

// Recorder runs the recordings of all cameras on one Store.
type Recorder struct {
	cfg   Config
	store *storage.Store
	log   *slog.Logger

	// mu guards active, ends and closed.
	mu     sync.Mutex
	active map[string]*Recording
	ends   map[string]int64 // camera -> end (Unix ns) of its last fragment handed to storage
	closed bool
}

// New returns a Recorder writing to store.
func New(cfg Config, store *storage.Store) (*Recorder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Recorder{cfg: cfg, store: store, log: cfg.Logger.With("component", "recorder"),
		active: make(map[string]*Recording), ends: make(map[string]int64)}, nil
}

// ValidCamera reports whether name may be recorded under.
func (r *Recorder) ValidCamera(name string) error { return storage.ValidCamera(name) }

// Open starts a recording of camera with the given tracks (in SDP order;
// tracks with an unknown codec are ignored). It fails with ErrBusy while
// another recording of the camera is open.
func (r *Recorder) Open(camera string, tracks []*media.Track) (*Recording, error) {
	if err := storage.ValidCamera(camera); err != nil {
		return nil, err
	}
	rec, err := newRecording(r, camera, tracks)
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
	rec.log.Info("recording started", "tracks", len(rec.tracks))
	return rec, nil
}

func (r *Recorder) release(rec *Recording) {
	r.mu.Lock()
	if r.active[rec.camera] == rec {
		delete(r.active, rec.camera)
	}
	r.mu.Unlock()
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
