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
	// DefaultOnDemandLinger is how long a camera pulled for viewers stays
	// connected after the last one left.
	DefaultOnDemandLinger = 10 * time.Second
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
	// Schedule says when the camera records. Outside its windows the
	// camera is still pulled while live viewers watch it (Pull.Watch).
	Schedule Schedule
	// OnDemand marks a camera that is never recorded: it is pulled only
	// while live viewers watch it, and Schedule is ignored.
	OnDemand bool
}

// same reports whether a and b describe the same session.
func (a PullCamera) same(b PullCamera) bool {
	return a.Name == b.Name && a.URL == b.URL && a.Transport == b.Transport && a.OnDemand == b.OnDemand &&
		a.Schedule.Always == b.Schedule.Always && slices.Equal(a.Schedule.Rules, b.Schedule.Rules)
}

// PullConfig configures Pull. The yaml tags are the keys of camvault's pull
// section (package settings).
type PullConfig struct {
	// Sink records what the cameras send. Required.
	Sink Sink `yaml:"-"`
	// Live, if set, relays what the cameras send to live viewers (package
	// live) for as long as each is pulled, recording or not.
	Live Sink `yaml:"-"`
	// OnDemandLinger is how long a camera pulled only for live viewers
	// stays connected after the last one left, so that a viewer who comes
	// back (or switches streams) starts at once. Defaults to 10s.
	OnDemandLinger time.Duration `yaml:"on_demand_linger"`
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

	// testWindows, set by tests only, opens and closes the windows of every
	// camera instead of its schedule.
	testWindows chan bool
}

// pullCam is one camera; stop and done are set while its goroutine runs.
type pullCam struct {
	cam  PullCamera
	log  *slog.Logger
	stop context.CancelFunc
	done chan struct{}
	wake chan struct{} // capacity 1: the number of viewers changed

	// Guarded by Pull.mu.
	state   CameraState
	client  *rtsp.Client // the running session's, for its counters
	viewers int          // live viewers (Watch)
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
	if cfg.OnDemandLinger == 0 {
		cfg.OnDemandLinger = DefaultOnDemandLinger
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
			pc := &pullCam{cam: c, log: p.log.With("camera", name), wake: make(chan struct{}, 1), state: CameraState{Name: name,
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

// Watch registers a live viewer of a pulled camera: the camera is pulled
// while it has viewers, and for OnDemandLinger after the last one left,
// even outside its recording windows; a window that opens meanwhile
// records from the same session. It reports false for a camera Pull does
// not have. release must be called when the viewer leaves; later calls do
// nothing.
func (p *Pull) Watch(camera string) (release func(), ok bool) {
	p.mu.Lock()
	pc := p.cams[camera]
	if pc != nil {
		pc.viewers++
	}
	p.mu.Unlock()
	if pc == nil {
		return nil, false
	}
	pc.poke()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			pc.viewers--
			p.mu.Unlock()
			pc.poke()
		})
	}, true
}

func (pc *pullCam) poke() {
	select {
	case pc.wake <- struct{}{}:
	default:
	}
}

func (p *Pull) viewers(pc *pullCam) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pc.viewers
}

// runCamera keeps pc connected while its schedule has a window open, it
// has live viewers, or the last viewer left less than OnDemandLinger ago;
// the session records while a window is open. It returns when ctx is done.
func (p *Pull) runCamera(ctx context.Context, pc *pullCam) {
	windows := make(chan bool)
	scheduled := make(chan error, 1)
	switch {
	case pc.cam.OnDemand:
		scheduled = nil
	case p.testWindows != nil:
		windows, scheduled = p.testWindows, nil
	default:
		go func() {
			scheduled <- pc.cam.Schedule.Run(ctx, func(open bool, _ Window) {
				select {
				case windows <- open:
				case <-ctx.Done():
				}
			})
		}()
	}
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	var (
		s                 *pullSession
		window, lingering bool
		viewers           int
	)
	for {
		// Re-read at every turn: a viewer may have come while the loop
		// waited on something else (a pending wake loses to the linger).
		was := viewers
		viewers = p.viewers(pc)
		if viewers > 0 {
			lingering = false
			linger.Stop()
		} else if was > 0 {
			lingering = true
			linger.Reset(p.cfg.OnDemandLinger)
		}
		switch want := window || viewers > 0 || lingering; {
		case want && s == nil:
			s = p.newSession(ctx, pc, window)
		case want:
			s.setRecording(window)
		case s != nil:
			s.stop()
			s = nil
			p.setState(pc, PullIdle, nil, time.Time{})
		}
		select {
		case window = <-windows:
		case <-pc.wake:
		case <-linger.C:
			lingering = false
		case err := <-scheduled:
			scheduled, window = nil, false
			if err != nil && ctx.Err() == nil {
				pc.log.Error("camera schedule invalid", "err", err)
				p.setState(pc, PullIdle, err, time.Time{})
			}
		case <-ctx.Done():
			if s != nil {
				s.stop()
			}
			if scheduled != nil {
				<-scheduled
			}
			p.setState(pc, PullIdle, nil, time.Time{})
			return
		}
	}
}

// pullSession is a camera's connection loop (record), running while the
// camera is wanted; whether it records can change while it runs.
type pullSession struct {
	cancel  context.CancelFunc
	done    chan struct{}
	changed chan struct{} // capacity 1: record changed

	mu     sync.Mutex
	record bool
}

func (p *Pull) newSession(ctx context.Context, pc *pullCam, record bool) *pullSession {
	ctx, cancel := context.WithCancel(ctx)
	s := &pullSession{cancel: cancel, done: make(chan struct{}), changed: make(chan struct{}, 1), record: record}
	go func() {
		defer close(s.done)
		p.record(ctx, pc, s)
	}()
	return s
}

func (s *pullSession) setRecording(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.record != on {
		s.record = on
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

func (s *pullSession) recording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.record
}

func (s *pullSession) stop() {
	s.cancel()
	<-s.done
}

// record connects and reads the camera until ctx is done (no window and
// no viewer, or the camera was removed), reconnecting with backoff after
// each failure.
func (p *Pull) record(ctx context.Context, pc *pullCam, s *pullSession) {
	b := backoff{min: p.cfg.BackoffMin, max: p.cfg.BackoffMax}
	for {
		p.setState(pc, PullConnecting, nil, time.Time{})
		recorded, err := p.session(ctx, pc, s)
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

// session runs one connection: dial, open the live relay and (if s
// records) the recording, read media until ctx is done or the camera
// fails, then TEARDOWN and seal. It returns how long it ran and why it
// ended.
func (p *Pull) session(ctx context.Context, pc *pullCam, s *pullSession) (time.Duration, error) {
	if err := p.cfg.Sink.ValidCamera(pc.cam.Name); err != nil {
		return 0, err
	}
	// w is set before Run, whose reader goroutines then call OnRTP; media
	// that arrives during Dial, before PLAY's response, finds it nil.
	var w *tee
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
	src := source{p: p, pc: pc, tracks: tracks, feed: Feed{TCP: c.Transport() == "tcp"}}
	if w, err = openTee(p.cfg.Sink, p.cfg.Live, pc.cam.Name, tracks, src.feed, s.recording()); err != nil {
		return 0, err
	}
	start := time.Now()
	p.startSession(pc, c, describe(tracks), w.recording() != nil)
	err = src.run(ctx, c, w, s)
	w.closeLive() // first: a viewer arriving now waits for the next session, not this one's end
	_ = c.Close() // TEARDOWN before the seal; the deferred call is then a no-op
	w.Close()
	p.endSession(pc)
	return time.Since(start), err
}

// source is one connected session's camera: what its recording is opened
// with when a window opens.
type source struct {
	p      *Pull
	pc     *pullCam
	tracks []*media.Track
	feed   Feed
}

// run reads the camera until ctx is done, the camera fails or the
// recording ends by itself (w.Err: over budget, racing clock), whose
// reason it then returns: the camera is reconnected with backoff. It opens
// and closes the recording as s says meanwhile; a recording that cannot be
// opened (storage refusing) is tried again with backoff while the
// connection and its live viewers go on.
func (src source) run(ctx context.Context, c *rtsp.Client, w *tee, s *pullSession) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := backoff{min: src.p.cfg.BackoffMin, max: src.p.cfg.BackoffMax}
		retry := time.NewTimer(time.Hour)
		retry.Stop()
		defer retry.Stop()
		apply := func() {
			if err := src.switchRecording(w, s.recording(), c.Transport()); err != nil {
				d := b.next()
				src.pc.log.Warn("cannot record; live viewers go on", "err", err, "retry_in", d)
				src.p.setState(src.pc, PullLive, err, time.Time{})
				retry.Reset(d)
				return
			}
			b.reset()
			retry.Stop()
		}
		for {
			select {
			case <-w.Done():
				cancel()
				return
			case <-s.changed:
				apply()
			case <-retry.C:
				apply()
			case <-ctx.Done():
				return
			}
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

// switchRecording opens or closes the session's recording.
func (src source) switchRecording(w *tee, on bool, transport string) error {
	if !on {
		w.stopRecording()
		src.p.setState(src.pc, PullLive, nil, time.Time{})
		return nil
	}
	if err := w.startRecording(src.p.cfg.Sink, src.pc.cam.Name, src.tracks, src.feed); err != nil {
		return err
	}
	src.p.setState(src.pc, PullRecording, nil, time.Time{}, slog.String("transport", transport))
	return nil
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
