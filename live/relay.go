package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// ErrCameraGone ends the sessions of a camera's viewers when its recording
// ends (the publisher left, the pull stopped).
var ErrCameraGone = errors.New("live: camera stopped")

// Relay serves the live cameras: it is an ingest.Sink that push and pull
// open beside the recorder's, and answers DESCRIBE of rtsp://HOST/{camera}.
type Relay struct {
	cfg Config
	log *slog.Logger

	// mu guards the fields below.
	mu      sync.Mutex
	hubs    map[string]*hub
	waiting map[string]chan struct{} // closed when the camera's next hub is published
	playing int
}

// New returns a relay.
func New(cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("live config: %w", err)
	}
	return &Relay{cfg: cfg, log: cfg.Logger.With("component", "live"), hubs: map[string]*hub{},
		waiting: map[string]chan struct{}{}}, nil
}

// ValidCamera implements ingest.Sink; the recorder's sink judges names.
func (r *Relay) ValidCamera(string) error { return nil }

// Open implements ingest.Sink: the camera is live until the Writer is
// closed. Its WriteRTP and WriteRTCP never block.
func (r *Relay) Open(camera string, tracks []*media.Track, _ ingest.Feed) (ingest.Writer, error) {
	return &source{h: r.publish(camera, tracks), done: make(chan struct{})}, nil
}

// source is the ingest.Writer of one hub.
type source struct {
	h    *hub
	once sync.Once
	done chan struct{}
}

func (s *source) WriteRTP(i int, b []byte)  { s.h.rtp(i, b) }
func (s *source) WriteRTCP(i int, b []byte) { s.h.rtcp(i, b) }
func (s *source) Done() <-chan struct{}     { return s.done }
func (s *source) Err() error                { return nil }

func (s *source) Close() {
	s.once.Do(func() {
		s.h.r.unpublish(s.h)
		close(s.done)
	})
}

// publish makes a new hub the camera's. A hub it replaces (a recording
// not closed yet when the next one opened) ends.
func (r *Relay) publish(camera string, tracks []*media.Track) *hub {
	h := newHub(r, camera, tracks)
	r.mu.Lock()
	old := r.hubs[camera]
	r.hubs[camera] = h
	if ch := r.waiting[camera]; ch != nil {
		close(ch)
		delete(r.waiting, camera)
	}
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

// Describe answers DESCRIBE (or SETUP without it) of a live camera. A
// camera that is not pushed or pulled now is started by Config.OnDemand
// if that knows it, and waited for at most OnDemandTimeout; otherwise, or
// if it does not start in time, the answer is 404. The caller checked the
// read right.
func (r *Relay) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	camera := req.Path
	var release func()
	if r.cfg.OnDemand != nil {
		// Watched from DESCRIBE on, so that the camera is not released
		// between DESCRIBE and PLAY.
		var ok bool
		if release, ok = r.cfg.OnDemand(camera); !ok {
			release = nil
		}
	}
	h, err := r.hubFor(ctx, camera, release != nil)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	return &presentation{h: h, release: release, log: h.log.With("peer", req.Peer.String(), "user", req.User)}, nil
}

// hubFor returns the camera's hub, waiting for it (bounded) if wait.
func (r *Relay) hubFor(ctx context.Context, camera string, wait bool) (*hub, error) {
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		h := r.hubs[camera]
		var published chan struct{}
		if h == nil && wait {
			if published = r.waiting[camera]; published == nil {
				published = make(chan struct{})
				r.waiting[camera] = published
			}
		}
		r.mu.Unlock()
		if h != nil {
			return h, nil
		}
		if !wait {
			return nil, &base.Error{Status: 404, Reason: "camera is not live"}
		}
		if timeout == nil {
			t := time.NewTimer(r.cfg.OnDemandTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-published:
		case <-timeout:
			r.log.Warn("on-demand camera did not start in time", "camera", camera, "timeout", r.cfg.OnDemandTimeout)
			return nil, &base.Error{Status: 404, Reason: "camera did not start in time"}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
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
