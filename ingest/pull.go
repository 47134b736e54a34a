package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// Pull defaults.
const (
	// DefaultBackoffMin is the first reconnect delay bound.
	DefaultBackoffMin = time.Second
	// DefaultBackoffMax caps the reconnect delay bound.
	DefaultBackoffMax = 30 * time.Second
	// backoffResetAfter is how long a session must record for the next
	// failure to start the backoff from BackoffMin again.
	backoffResetAfter = time.Minute
)

// PullCamera is one camera that Pull plays and records.
type PullCamera struct {
	// Name is the camera name given to Sink.Open.
	Name string
	// URL is the camera's rtsp:// URL. It may hold credentials; they are
	// never logged nor reported.
	URL string
	// Transport is "tcp" (the default) or "udp".
	Transport string
	// Schedule says when the camera records.
	Schedule Schedule
}

// same reports whether a and b describe the same session.
func (a PullCamera) same(b PullCamera) bool {
	return a.Name == b.Name && a.URL == b.URL && a.Transport == b.Transport &&
		a.Schedule.Always == b.Schedule.Always && slices.Equal(a.Schedule.Rules, b.Schedule.Rules)
}

// PullConfig configures Pull. The yaml tags are the keys of camvault's pull
// section (package settings).
type PullConfig struct {
	// Sink records what the cameras send. Required.
	Sink Sink `yaml:"-"`
	// BackoffMin and BackoffMax bound the delay before a reconnect. The
	// delay is drawn uniformly from (0, bound] ("full jitter"); the bound
	// starts at BackoffMin, doubles after each failure up to BackoffMax,
	// and starts again after a session that recorded for at least a
	// minute. Default to 1s and 30s.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// Client is the template of every camera's client (timeouts, limits,
	// logger). Its URL, Transport, OnRTP and OnRTCP are set per camera.
	Client rtsp.ClientConfig `yaml:",inline"`
	// SDP bounds the cameras' descriptions. Zero fields take media's
	// defaults.
	SDP media.SDPLimits `yaml:"-"`
	// Logger receives camera events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Pull plays cameras over RTSP while their schedules say so, and records
// them through a Sink. Each camera has one goroutine, which reconnects with
// backoff after a failure.
type Pull struct {
	cfg PullConfig
	log *slog.Logger

	// upd serialises Update and the start and stop of Run. It guards
	// runCtx; cams is changed with both upd and mu held, so holders of
	// either may read it.
	upd    sync.Mutex
	runCtx context.Context // Run's ctx while Run runs, else nil

	// mu guards cams and the state of every camera.
	mu   sync.Mutex
	cams map[string]*pullCam
}

// pullCam is one camera; stop and done are set while its goroutine runs.
type pullCam struct {
	cam  PullCamera
	log  *slog.Logger
	stop context.CancelFunc
	done chan struct{}

	// Guarded by Pull.mu.
	state  CameraState
	client *rtsp.Client // the recording session's, for its counters
}

// NewPull returns a Pull with no cameras; see Update.
func NewPull(cfg PullConfig) (*Pull, error) {
	if cfg.Sink == nil {
		return nil, errors.New("ingest: pull needs a sink")
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	// Each camera's Dial fills the template's defaults; they are checked here, once.
	filled := cfg
	filled.Client = cfg.Client.WithDefaults()
	if err := filled.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: pull config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pull{cfg: cfg, log: cfg.Logger.With("component", "pull"), cams: map[string]*pullCam{}}, nil
}

// Run starts every camera and serves until ctx is done; it then stops
// every camera (TEARDOWN, writer closed) and waits for them. It returns an
// error only when Run is already running.
func (p *Pull) Run(ctx context.Context) error {
	p.upd.Lock()
	if p.runCtx != nil {
		p.upd.Unlock()
		return errors.New("ingest: pull is already running")
	}
	p.runCtx = ctx
	for _, pc := range p.cams {
		p.start(pc)
	}
	p.upd.Unlock()

	<-ctx.Done()
	p.upd.Lock()
	defer p.upd.Unlock()
	stopAll(slices.Collect(maps.Values(p.cams)))
	p.runCtx = nil
	return nil
}

// Update sets the cameras: added ones start, removed ones stop, changed
// ones (URL, transport or schedule) restart and unchanged ones are left
// alone. Of cameras with the same name the first wins. It returns after
// the stopped cameras have torn down. Update is safe before and while Run.
func (p *Pull) Update(cams []PullCamera) {
	p.upd.Lock()
	defer p.upd.Unlock()
	want := map[string]PullCamera{}
	for _, c := range cams {
		if _, dup := want[c.Name]; dup {
			p.log.Warn("camera listed twice, first kept", "camera", c.Name)
			continue
		}
		want[c.Name] = c
	}
	var stale []*pullCam
	for name, pc := range p.cams {
		if c, ok := want[name]; !ok || !c.same(pc.cam) {
			stale = append(stale, pc)
		}
	}
	stopAll(stale)
	p.mu.Lock()
	for _, pc := range stale {
		delete(p.cams, pc.cam.Name)
	}
	var added []*pullCam
	for name, c := range want {
		if p.cams[name] == nil {
			pc := &pullCam{cam: c, log: p.log.With("camera", name), state: CameraState{Name: name,
				State: PullIdle, Since: time.Now(), Transport: cmp.Or(c.Transport, "tcp")}}
			p.cams[name] = pc
			added = append(added, pc)
		}
	}
	p.mu.Unlock()
	if p.runCtx != nil {
		for _, pc := range added {
			p.start(pc)
		}
	}
}

// start runs pc's goroutine; p.upd is held.
func (p *Pull) start(pc *pullCam) {
	ctx, cancel := context.WithCancel(p.runCtx)
	pc.stop, pc.done = cancel, make(chan struct{})
	go func() {
		defer close(pc.done)
		p.runCamera(ctx, pc)
	}()
}

// stopAll cancels every running camera of cams, then waits for them, so
// that they tear down in parallel.
func stopAll(cams []*pullCam) {
	for _, pc := range cams {
		if pc.stop != nil {
			pc.stop()
		}
	}
	for _, pc := range cams {
		if pc.done != nil {
			<-pc.done
		}
		pc.stop, pc.done = nil, nil
	}
}

// runCamera follows pc's schedule until ctx is done: each open window runs
// record on a goroutine that the window's close cancels and waits for.
func (p *Pull) runCamera(ctx context.Context, pc *pullCam) {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	closeWindow := func() {
		if done != nil {
			cancel()
			<-done
			done = nil
		}
		p.setState(pc, PullIdle, nil, time.Time{})
	}
	err := pc.cam.Schedule.Run(ctx, func(open bool, _ Window) {
		closeWindow()
		if open {
			var wctx context.Context
			wctx, cancel = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() {
				defer close(done)
				p.record(wctx, pc)
			}()
		}
	})
	closeWindow()
	if err != nil {
		pc.log.Error("camera schedule invalid", "err", err)
		p.setState(pc, PullIdle, err, time.Time{})
	}
}

// record connects and records until ctx is done (the window closed or the
// camera was removed), reconnecting with backoff after each failure.
func (p *Pull) record(ctx context.Context, pc *pullCam) {
	b := backoff{min: p.cfg.BackoffMin, max: p.cfg.BackoffMax}
	for {
		p.setState(pc, PullConnecting, nil, time.Time{})
		recorded, err := p.session(ctx, pc)
		if ctx.Err() != nil {
			return
		}
		if recorded >= backoffResetAfter {
			b.reset()
		}
		d := b.next()
		p.setState(pc, PullBackingOff, redactErr(err, pc.cam.URL), time.Now().Add(d))
		if !sleep(ctx, d) {
			return
		}
	}
}

// session runs one connection: dial, open the recording, read media until
// ctx is done or the camera fails, then TEARDOWN and seal. It returns how
// long it recorded and why it ended.
func (p *Pull) session(ctx context.Context, pc *pullCam) (time.Duration, error) {
	if err := p.cfg.Sink.ValidCamera(pc.cam.Name); err != nil {
		return 0, err
	}
	// w is set before Run, whose reader goroutines then call OnRTP; media
	// that arrives during Dial, before PLAY's response, finds it nil.
	var w Writer
	cfg := p.cfg.Client
	cfg.URL, cfg.Transport = pc.cam.URL, p.transport(pc)
	cfg.OnRTP = func(i int, b []byte) {
		if w != nil {
			w.WriteRTP(i, b)
		}
	}
	cfg.OnRTCP = func(i int, b []byte) {
		if w != nil {
			w.WriteRTCP(i, b)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = pc.log
	} else {
		cfg.Logger = cfg.Logger.With("camera", pc.cam.Name)
	}
	c, err := rtsp.Dial(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer func() { _ = c.Close() }() // TEARDOWN is best effort
	tracks, err := media.TracksFromSDP(c.SDP(), p.cfg.SDP)
	if err != nil {
		return 0, err
	}
	if w, err = p.cfg.Sink.Open(pc.cam.Name, tracks, Feed{TCP: c.Transport() == "tcp"}); err != nil {
		return 0, err
	}
	start := time.Now()
	p.startSession(pc, c, describe(tracks))
	err = runUntilEnded(ctx, c, w)
	_ = c.Close() // TEARDOWN before the seal; the deferred call is then a no-op
	w.Close()
	p.endSession(pc)
	return time.Since(start), err
}

// runUntilEnded reads the camera until ctx is done, the camera fails or
// the recording ends by itself (w.Err: over budget, racing clock), whose
// reason it then returns: the camera is reconnected with backoff.
func runUntilEnded(ctx context.Context, c *rtsp.Client, w Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-w.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	err := c.Run(ctx)
	cancel()
	<-done
	if werr := w.Err(); werr != nil {
		return werr
	}
	return err
}

// redactErr returns err with rawURL's credentials, should they appear in
// its text, replaced.
func redactErr(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), rawURL, base.RedactURL(rawURL))
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// backoff draws full-jitter reconnect delays.
type backoff struct {
	min, max time.Duration
	bound    time.Duration // 0 before the first failure
}

func (b *backoff) reset() { b.bound = 0 }

// next returns a delay in (0, bound] and doubles the bound.
func (b *backoff) next() time.Duration {
	if b.bound == 0 {
		b.bound = b.min
	} else {
		b.bound = min(2*b.bound, b.max)
	}
	return 1 + rand.N(b.bound)
}

// sleep waits d and reports false when ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
