package main

import (
	"crypto/tls"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/storage"
)

// maxScheduleWindows bounds the windows ahead that a camera answer lists.
const maxScheduleWindows = 8

// apiConfig returns the configuration of api.New: the http section, the RTSPS certificate for
// HTTPS (nil: no HTTPS) and tls.only.
func (c *fileConfig) apiConfig(tlsConf *tls.Config, log *slog.Logger) api.Config {
	h := c.HTTP
	h.TLS, h.TLSOnly, h.Logger = tlsConf, c.TLS.Only && tlsConf != nil, log
	return h
}

// newAPIServer builds the HTTP server over the serve's parts. Sources that this build does not
// have yet stay nil and their routes answer 503: the archive views (spans, summaries, usage,
// holds: storage's part of issue 11, adapted by an apiArchive type once storage has them), the
// exporter and the metrics. Retention dry runs go to the store itself.
func newAPIServer(cfg *fileConfig, access *rtspAuth, store *storage.Store, pull *ingest.Pull, tlsConf *tls.Config, log *slog.Logger) (*api.Server, error) {
	return api.New(cfg.apiConfig(tlsConf, log), api.Deps{
		Authority: access.authority,
		Limiter:   access.limiter,
		Cameras:   apiCameras{cfg: cfg, store: store, pull: pull},
		Retention: store,
		Sessions:  apiSessions{pull: pull},
		Ready: func() error {
			_, err := store.Cameras() // the index answers
			return err
		},
	})
}

// apiCameras lists the cameras of the configuration, the pulls and the index for the API.
// The configuration is the one the serve started with.
type apiCameras struct {
	cfg   *fileConfig
	store *storage.Store
	pull  *ingest.Pull
}

// Cameras implements api.CameraSource.
func (a apiCameras) Cameras(now time.Time) ([]api.Camera, error) {
	names := map[string]bool{}
	for name := range a.cfg.Cameras {
		names[name] = true
	}
	stored, err := a.store.Cameras()
	if err != nil {
		return nil, err
	}
	for _, name := range stored {
		names[name] = true
	}
	pol := a.store.Retention()
	out := make([]api.Camera, 0, len(names))
	for _, name := range slices.Sorted(maps.Keys(names)) {
		cam, err := a.camera(name, now, pol)
		if err != nil {
			return nil, err
		}
		out = append(out, cam)
	}
	return out, nil
}

// camera describes one camera: source and schedule from the configuration, state from the
// pull or the index (a pushed camera with an open segment is recording), tracks, bitrate and
// the last fragment from its newest segment.
func (a apiCameras) camera(name string, now time.Time, pol storage.Retention) (api.Camera, error) {
	cc := a.cfg.Cameras[name]
	cam := api.Camera{Name: name, Source: "push", AlwaysOn: true, State: api.StateIdle}
	p, ok := pol.Cameras[name]
	if !ok {
		p = pol.Default
	}
	cam.Retention = api.RetentionPolicy{MaxAge: p.MaxAge, MinAge: p.MinAge, MaxBytes: p.MaxBytes}
	if cc.URL != "" {
		cam.Source, cam.URL = "pull", cc.URL // the API strips the credentials
		sched := cc.Schedule.schedule()
		cam.AlwaysOn = sched.Always
		cam.Schedule = windowsAhead(sched, now)
		if st, ok := a.pull.Camera(name); ok {
			cam.State = pullState(st.State)
			cam.LastError, cam.LastErrorTime, cam.NextRetry = st.LastError, st.LastErrorTime, st.NextRetry
		}
	}
	last, err := a.store.LastEnd(name)
	if err != nil || last.IsZero() {
		return cam, err
	}
	cam.LastFragment = last
	segs, err := a.store.Segments(name, last.Add(-time.Nanosecond), time.Time{}, false)
	if err != nil || len(segs) == 0 {
		return cam, err
	}
	seg := segs[len(segs)-1]
	cam.Tracks = seg.Tracks
	if d := seg.End.Sub(seg.Start); d > 0 {
		cam.Bitrate = float64(seg.Bytes*8) / d.Seconds()
	}
	if seg.State == storage.StateOpen && cam.Source == "push" {
		cam.State = api.StateRecording
	}
	return cam, nil
}

// pullState maps a pull's state to the API's.
func pullState(s ingest.PullState) api.CameraState {
	switch s {
	case ingest.PullRecording:
		return api.StateRecording
	case ingest.PullConnecting:
		return api.StateConnecting
	case ingest.PullBackingOff:
		return api.StateBackingOff
	}
	return api.StateIdle
}

// windowsAhead lists the schedule's windows from now: the open one, then the next ones, at most
// maxScheduleWindows. An always-on schedule has none.
func windowsAhead(s ingest.Schedule, now time.Time) []api.Window {
	var out []api.Window
	if s.Always {
		return out
	}
	at := now
	if w, ok := s.Active(now); ok {
		out = append(out, api.Window{Start: w.Start, End: w.End})
		at = w.End
	}
	for len(out) < maxScheduleWindows {
		w, ok := s.Next(at)
		if !ok {
			break
		}
		out = append(out, api.Window{Start: w.Start, End: w.End})
		at = w.Start
	}
	return out
}

// apiSessions lists the pulled cameras as sessions. The RTSP server's own sessions (publishers
// and viewers) join this list, and become kickable, when rtsp.Server reports them (issue 11's
// sessions part); a pull cannot be kicked, its schedule owns it.
type apiSessions struct{ pull *ingest.Pull }

// Sessions implements api.Sessions.
func (a apiSessions) Sessions() []api.Session {
	var out []api.Session
	for _, st := range a.pull.States() {
		s := api.Session{ID: "pull/" + st.Name, Kind: "pull", Mode: "record", Camera: st.Name,
			Transport: st.Transport, Playing: st.State == ingest.PullRecording, BytesIn: st.Bytes}
		if s.Playing {
			s.Started = st.Since
		}
		out = append(out, s)
	}
	return out
}

// Kick implements api.Sessions.
func (a apiSessions) Kick(id string) error {
	for _, s := range a.Sessions() {
		if s.ID == id {
			return api.ErrNotKickable
		}
	}
	return api.ErrNotFound
}
