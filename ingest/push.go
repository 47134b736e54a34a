package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// Writer receives one recording's packets. It is safe for concurrent use.
type Writer interface {
	// WriteRTP and WriteRTCP take one packet of track i; b is only read
	// during the call. A Writer opened with Feed.TCP may block in them
	// while it cannot keep up (the source is then read no further and
	// slows down); otherwise they must not block.
	WriteRTP(i int, b []byte)
	WriteRTCP(i int, b []byte)
	// Close ends the recording.
	Close()
	// Done is closed when the recording has ended, by Close or by itself.
	Done() <-chan struct{}
	// Err reports why the recording ended by itself (over its memory
	// budget, timestamps racing ahead), or nil.
	Err() error
}

// Sink starts recordings.
type Sink interface {
	// ValidCamera reports whether name is a usable camera name.
	ValidCamera(name string) error
	// Open starts recording camera with the tracks, fed as feed says.
	Open(camera string, tracks []*media.Track, feed Feed) (Writer, error)
}

// Feed says how a recording's packets are delivered to its Writer.
type Feed struct {
	// TCP says that WriteRTP and WriteRTCP are called by the one goroutine
	// that reads the source's TCP connection (an interleaved push, or a
	// pull over TCP). A Writer that blocks in them stops reading that
	// connection only: the source's buffer and TCP flow control then hold
	// the media back. Without it (UDP) packets are read by socket readers
	// that must never block; the RTSP server's one UDP reader serves every
	// UDP publisher.
	TCP bool
}

// PushConfig configures Push. The yaml tags are the keys of camvault's
// ingest section (package settings).
type PushConfig struct {
	// Sink records what publishers send. Required.
	Sink Sink `yaml:"-"`
	// Live, if set, relays what publishers send to live viewers (package
	// live); it is opened and closed with each recording.
	Live Sink `yaml:"-"`
	// TakeOver lets another publisher of a camera replace the current one;
	// by default it is refused with 503. A publisher always replaces its
	// own earlier session of the camera (a camera that reconnects before
	// its dead session timed out): the same authenticated user, or for
	// anonymous publishers the same IP address. Either way the publisher
	// needed the publish right on the camera. Defaults to false.
	TakeOver bool `yaml:"takeover"`
	// Cameras, when AllowUnknown is false, lists the camera names that may
	// publish.
	Cameras []string `yaml:"-"`
	// AllowUnknown lets any valid camera name publish. The zero value
	// (false) is replaced by true unless Cameras is set.
	AllowUnknown bool `yaml:"allow_unknown_cameras"`
	// Pulled lists the cameras that camvault pulls: a push to one of them
	// is refused with 403, so that nobody can record over a pulled camera
	// or make its scheduled pull fail.
	Pulled []string `yaml:"-"`
	// SDP bounds announced descriptions. Zero fields take media's defaults.
	SDP media.SDPLimits `yaml:",inline"`
	// Logger receives publisher events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Push accepts publishers; it implements rtsp.Handler.
type Push struct {
	cfg    PushConfig
	log    *slog.Logger
	known  map[string]bool
	pulled map[string]bool

	// mu guards active.
	mu     sync.Mutex
	active map[string]*publication
}

// NewPush returns the publisher handler.
func NewPush(cfg PushConfig) (*Push, error) {
	if cfg.Sink == nil {
		return nil, errors.New("ingest: push needs a sink")
	}
	cfg.SDP = cfg.SDP.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: push config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Cameras) == 0 {
		cfg.AllowUnknown = true
	}
	p := &Push{cfg: cfg, log: cfg.Logger.With("component", "push"), known: map[string]bool{},
		pulled: map[string]bool{}, active: map[string]*publication{}}
	for _, c := range cfg.Cameras {
		p.known[c] = true
	}
	for _, c := range cfg.Pulled {
		p.pulled[c] = true
	}
	return p, nil
}

// Announce validates an ANNOUNCE (RTSP-M-09). The camera is reserved only
// at RECORD (publication.Record): a client that announces and never
// records holds no camera.
func (p *Push) Announce(_ context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	camera := strings.TrimSuffix(req.Path, "/")
	if camera == "archive" || strings.HasPrefix(camera, "archive/") {
		return nil, &base.Error{Status: 405, Reason: "archive paths cannot be published to"}
	}
	if err := p.cfg.Sink.ValidCamera(camera); err != nil {
		return nil, &base.Error{Status: 400, Reason: "invalid camera name", Err: err}
	}
	if !p.cfg.AllowUnknown && !p.known[camera] {
		return nil, &base.Error{Status: 403, Reason: "camera not configured"}
	}
	if p.pulled[camera] {
		return nil, &base.Error{Status: 403, Reason: "camera is pulled"}
	}
	tracks, err := media.TracksFromSDP(req.SDP, p.cfg.SDP)
	if err != nil {
		status := 400
		if errors.Is(err, media.ErrNoSupportedMedia) {
			status = 415
		}
		return nil, &base.Error{Status: status, Reason: "unusable sdp", Err: err}
	}
	pub := &publication{push: p, camera: camera, tracks: tracks, peer: req.Peer.Addr(), user: req.User,
		log: p.log.With("camera", camera, "peer", req.Peer.String())}
	for _, t := range tracks {
		pub.controls = append(pub.controls, t.Control)
	}
	pub.log.Info("publisher announced", "tracks", describe(tracks), "user_agent", req.UserAgent)
	return pub, nil
}

// Describe answers 404: Push serves no presentation. camvault routes
// DESCRIBE of a camera to the live relay (package live) and of an archive
// to playback before it would get here.
func (p *Push) Describe(context.Context, *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	return nil, &base.Error{Status: 404, Reason: "no such presentation"}
}

// reserve makes pub the camera's publisher. A current publisher is
// replaced when it is the same publisher (samePublisher) or TakeOver is
// set; otherwise pub is refused with 503.
func (p *Push) reserve(pub *publication) error {
	p.mu.Lock()
	old := p.active[pub.camera]
	if old != nil && !p.cfg.TakeOver && !samePublisher(old, pub) {
		p.mu.Unlock()
		// Debug: the server logs the 503 itself, rate-limited.
		pub.log.Debug("publisher refused: camera is already publishing")
		return &base.Error{Status: 503, Reason: "camera is already publishing"}
	}
	p.active[pub.camera] = pub
	p.mu.Unlock()
	if old != nil {
		old.log.Warn("publisher replaced by a new one", "by", pub.peer)
		old.replace()
	}
	return nil
}

// samePublisher reports whether b is a new session of a's publisher: the
// same authenticated user, or two anonymous publishers at one IP address.
func samePublisher(a, b *publication) bool {
	if a.user != "" || b.user != "" {
		return a.user == b.user
	}
	return a.peer == b.peer
}

func (p *Push) release(pub *publication) {
	p.mu.Lock()
	if p.active[pub.camera] == pub {
		delete(p.active, pub.camera)
	}
	p.mu.Unlock()
}

func describe(tracks []*media.Track) string {
	var b strings.Builder
	for i, t := range tracks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v/%d", t.Codec, t.ClockRate)
		if t.Width > 0 {
			fmt.Fprintf(&b, " %dx%d", t.Width, t.Height)
		}
	}
	return b.String()
}

// publication is one publisher's presentation; it implements
// rtsp.Publication.
type publication struct {
	push     *Push
	camera   string
	tracks   []*media.Track
	controls []string
	peer     netip.Addr // the publisher's IP address
	user     string     // the authenticated publisher, "" for anonymous
	log      *slog.Logger

	// mu guards the fields below.
	mu       sync.Mutex
	w        Writer
	detached bool // recording stopped: replaced or closed
	replaced bool // another session of the camera took over
}

func (pub *publication) Controls() []string { return pub.controls }

// Record reserves the camera and opens the recording (RTSP-M-30).
func (pub *publication) Record(info rtsp.RecordInfo) error {
	if err := pub.push.reserve(pub); err != nil {
		return err
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if pub.detached {
		return &base.Error{Status: 503, Reason: "replaced by another publisher"}
	}
	if pub.w != nil {
		return nil
	}
	w, err := openTee(pub.push.cfg.Sink, pub.push.cfg.Live, pub.camera, pub.tracks, Feed{TCP: info.TCP}, true)
	if err != nil {
		pub.push.release(pub)
		pub.log.Warn("cannot record", "err", err)
		return &base.Error{Status: 503, Reason: "cannot record", Err: err}
	}
	pub.w = w
	return nil
}

// Ended implements rtsp.Ender: a publication replaced by another session
// of its camera, or whose recording ended by itself, ends its RTSP session
// so that its publisher sees the error.
func (pub *publication) Ended() error {
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if pub.replaced {
		return ErrReplaced
	}
	if pub.w != nil {
		return pub.w.Err()
	}
	return nil
}

func (pub *publication) writer() Writer {
	pub.mu.Lock()
	w := pub.w
	pub.mu.Unlock()
	return w
}

func (pub *publication) RTP(i int, b []byte) {
	if w := pub.writer(); w != nil {
		w.WriteRTP(i, b)
	}
}

func (pub *publication) RTCP(i int, b []byte) {
	if w := pub.writer(); w != nil {
		w.WriteRTCP(i, b)
	}
}

// detach stops recording this publication; later packets are ignored
// until its session ends.
func (pub *publication) detach(replaced bool) {
	pub.mu.Lock()
	w := pub.w
	pub.w, pub.detached = nil, true
	pub.replaced = pub.replaced || replaced
	pub.mu.Unlock()
	if w != nil {
		w.Close()
	}
}

// replace detaches a publication that another session took over; its own
// session ends at the server's next check (Ended).
func (pub *publication) replace() { pub.detach(true) }

func (pub *publication) Close(reason error) {
	pub.detach(false)
	pub.push.release(pub)
	pub.log.Info("publisher gone", "reason", reason)
}
