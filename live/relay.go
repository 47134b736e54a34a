package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// ErrCameraGone ends the sessions of a camera's viewers when its recording
// ends (the publisher left, the pull stopped).
var ErrCameraGone = errors.New("live: camera stopped")

// Relay serves the live cameras: it is fed through Sink and answers
// DESCRIBE of rtsp://HOST/{camera}.
type Relay struct {
	cfg Config
	log *slog.Logger

	// mu guards the fields below.
	mu      sync.Mutex
	hubs    map[string]*hub
	playing int
}

// New returns a relay.
func New(cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("live config: %w", err)
	}
	return &Relay{cfg: cfg, log: cfg.Logger.With("component", "live"), hubs: map[string]*hub{}}, nil
}

// Sink returns a sink that opens recordings through inner and relays each
// to the camera's viewers while it records.
func (r *Relay) Sink(inner ingest.Sink) ingest.Sink { return relaySink{r: r, inner: inner} }

type relaySink struct {
	r     *Relay
	inner ingest.Sink
}

func (s relaySink) ValidCamera(name string) error { return s.inner.ValidCamera(name) }

func (s relaySink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	w, err := s.inner.Open(camera, tracks, feed)
	if err != nil {
		return nil, err
	}
	return tee{Writer: w, h: s.r.publish(camera, tracks)}, nil
}

// tee hands every packet to the hub (which never blocks) and then to the
// recording.
type tee struct {
	ingest.Writer
	h *hub
}

func (t tee) WriteRTP(i int, b []byte) {
	t.h.rtp(i, b)
	t.Writer.WriteRTP(i, b)
}

func (t tee) WriteRTCP(i int, b []byte) {
	t.h.rtcp(i, b)
	t.Writer.WriteRTCP(i, b)
}

func (t tee) Close() {
	t.h.r.unpublish(t.h)
	t.Writer.Close()
}

// publish makes a new hub the camera's. A hub it replaces (a recording
// not closed yet when the next one opened) ends.
func (r *Relay) publish(camera string, tracks []*media.Track) *hub {
	h := newHub(r, camera, tracks)
	r.mu.Lock()
	old := r.hubs[camera]
	r.hubs[camera] = h
	r.mu.Unlock()
	if old != nil {
		old.close()
	}
	return h
}

func (r *Relay) unpublish(h *hub) {
	r.mu.Lock()
	if r.hubs[h.camera] == h {
		delete(r.hubs, h.camera)
	}
	r.mu.Unlock()
	h.close()
}

// Describe answers DESCRIBE (or SETUP without it) of a live camera: 404
// unless it is being recorded now. The caller checked the read right.
func (r *Relay) Describe(_ context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	r.mu.Lock()
	h := r.hubs[req.Path]
	r.mu.Unlock()
	if h == nil {
		return nil, &base.Error{Status: 404, Reason: "camera is not live"}
	}
	return &presentation{h: h, log: h.log.With("peer", req.Peer.String(), "user", req.User)}, nil
}

// Viewers returns the number of playing live viewers of every camera.
func (r *Relay) Viewers() map[string]int {
	r.mu.Lock()
	hubs := make([]*hub, 0, len(r.hubs))
	for _, h := range r.hubs {
		hubs = append(hubs, h)
	}
	r.mu.Unlock()
	m := make(map[string]int, len(hubs))
	for _, h := range hubs {
		h.mu.Lock()
		m[h.camera] = len(h.viewers)
		h.mu.Unlock()
	}
	return m
}

func (r *Relay) admit() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.playing >= r.cfg.MaxViewers {
		return false
	}
	r.playing++
	return true
}

func (r *Relay) release() {
	r.mu.Lock()
	r.playing--
	r.mu.Unlock()
}
