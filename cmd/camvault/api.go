package main

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
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

// newAPIServer builds the HTTP server over the serve's parts: the store (through apiArchive, and
// itself for retention dry runs and /readyz), the recorder and pulls (cameras), the RTSP server
// and pulls (sessions), the RTSP server (the tunnels of the HTTP port), the live relay (the web
// page's live views), the exporter and the metrics.
func newAPIServer(cfg *fileConfig, access *rtspAuth, p apiParts, tlsConf *tls.Config, log *slog.Logger) (*api.Server, error) {
	store := p.store
	var archive api.Archive = store
	var clusterHandler http.Handler
	var livePeers api.LivePeers
	var peerToken string
	if p.cluster != nil {
		livePeers, peerToken = clusterLive{p.cluster}, p.cluster.node.PeerToken()
	}
	if p.tier != nil || p.cluster != nil {
		ca := clusterArchive{Store: store, tier: p.tier, timeout: max(cfg.Tier.RequestTimeout, cfg.Peer.RequestTimeout)}
		if p.cluster != nil {
			ca.peers = p.cluster.peers
			h, err := p.cluster.peerHandler(store)
			if err != nil {
				return nil, err
			}
			clusterHandler = h
		}
		archive = ca
	}
	return api.New(cfg.apiConfig(tlsConf, log), api.Deps{
		Authority:   access.authority,
		Limiter:     access.limiter,
		Cameras:     apiCameras{cfg: cfg, store: store, pull: p.pull, rec: p.rec, cluster: p.cluster},
		Archive:     archive,
		Cluster:     clusterHandler,
		Exporter:    p.exporter,
		Retention:   store,
		Sessions:    apiSessions{rtsp: p.rtsp, pull: p.pull},
		Tunnels:     rtspTunnels{srv: p.rtsp},
		Live:        p.live,
		LivePeers:   livePeers,
		PeerToken:   peerToken,
		Metrics:     p.metrics.Handler(),
		ObserveHTTP: p.metrics.ObserveHTTP,
		AuthFailure: p.metrics.AuthFailure,
		LiveStarted: p.metrics.LiveStarted,
		LiveEnded:   p.metrics.LiveEnded,
	})
}

// apiParts are the serve's parts the API reads and commands; all are required.
type apiParts struct {
	store *storage.Store
	rec   *recorder.Recorder
	pull  *ingest.Pull
	rtsp  *rtsp.Server
	live  *live.Relay
	// cluster is this node's part in a cluster, nil without one.
	cluster *clusterParts
	// tier uploads sealed segments to object storage and reads them back, nil without it.
	tier *tier.Tier
	// metrics is served at /metrics and counts the HTTP requests and failed logins.
	metrics *metrics.Metrics
	// exporter serves the MP4 exports.
	exporter *export.Server
}

// apiCameras lists the cameras of the configuration, the recorder, the pulls, the index and,
// in a cluster, the cameras other nodes own, for the API. The configuration is the one the
// serve started with.
type apiCameras struct {
	cfg   *fileConfig
	store *storage.Store
	pull  *ingest.Pull
	rec   *recorder.Recorder
	// cluster, nil without one, knows the cameras other nodes own.
	cluster *clusterParts
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
	for _, st := range a.rec.CameraStats() {
		names[st.Camera] = true
	}
	if a.cluster != nil {
		for name := range a.cluster.node.Owners() { // pushed to other nodes
			names[name] = true
		}
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

// Camera implements api.CameraSource: a camera of the configuration, the recorder, the index
// or, in a cluster, one that another node owns (a camera pushed there and unknown here: its
// recordings and spans are answered here, from the object store and its owner).
func (a apiCameras) Camera(name string, now time.Time) (api.Camera, bool, error) {
	_, known := a.cfg.Cameras[name]
	if _, ok := a.rec.Camera(name); ok {
		known = true
	}
	if !known {
		stored, err := a.store.Cameras()
		if err != nil {
			return api.Camera{}, false, err
		}
		known = slices.Contains(stored, name)
	}
	if !known && a.cluster != nil {
		_, known = a.cluster.node.Owner(name) // pushed to another node: its archive is answered here
	}
	if !known {
		return api.Camera{}, false, nil
	}
	cam, err := a.camera(name, now, a.store.Retention())
	return cam, err == nil, err
}

// camera describes one camera: what the configuration, the pull and the index say (configured),
// then what the recorder says of a recording under way; the state combines the pull's and the
// recorder's views as the metrics do (api.CameraStateOf).
func (a apiCameras) camera(name string, now time.Time, pol storage.Retention) (api.Camera, error) {
	cam, ps, err := a.configured(name, now, pol)
	var rs *recorder.CameraStats
	if st, ok := a.rec.Camera(name); ok {
		rs = &st
		recorded(&cam, st)
	}
	cam.State = api.CameraStateOf(rs, ps)
	if a.cluster != nil {
		if o, ok := a.cluster.node.Owner(name); ok {
			cam.Owner = o.Node
		}
	}
	return cam, err
}

// configured describes one camera from the configuration (source, schedule), the pull (its
// state, returned; nil for a pushed camera) and the index: tracks, bitrate and the last
// fragment from its newest segment.
func (a apiCameras) configured(name string, now time.Time, pol storage.Retention) (api.Camera, *ingest.CameraState, error) {
	cc := a.cfg.Cameras[name]
	cam := api.Camera{Name: name, Source: "push", AlwaysOn: true}
	p, ok := pol.Cameras[name]
	if !ok {
		p = pol.Default
	}
	cam.Retention = api.RetentionPolicy{MaxAge: p.MaxAge, MinAge: p.MinAge, MaxBytes: p.MaxBytes}
	var ps *ingest.CameraState
	if cc.URL != "" {
		cam.Source, cam.URL = "pull", cc.URL // the API strips the credentials
		sched := cc.Schedule.schedule()
		cam.AlwaysOn = sched.Always
		cam.Schedule = windowsAhead(sched, now)
		if st, ok := a.pull.Camera(name); ok {
			ps = &st
			cam.LastError, cam.LastErrorTime, cam.NextRetry = st.LastError, st.LastErrorTime, st.NextRetry
		}
	}
	last, err := a.store.LastEnd(name)
	if err != nil || last.IsZero() {
		return cam, ps, err
	}
	cam.LastFragment = last
	segs, err := a.store.Segments(name, last.Add(-time.Nanosecond), time.Time{}, false)
	if err != nil || len(segs) == 0 {
		return cam, ps, err
	}
	seg := segs[len(segs)-1]
	cam.Tracks = seg.Tracks
	if d := seg.End.Sub(seg.Start); d > 0 {
		cam.Bitrate = float64(seg.Bytes*8) / d.Seconds()
	}
	return cam, ps, nil
}

// recorded sets what the recorder knows of a camera it is recording now: the live tracks and
// the bitrate of the last seconds, and its last fragment.
func recorded(cam *api.Camera, st recorder.CameraStats) {
	if !st.Active {
		return
	}
	if len(st.Tracks) > 0 {
		cam.Tracks = st.Tracks
	}
	if st.Bitrate > 0 {
		cam.Bitrate = st.Bitrate
	}
	if st.LastFragment.After(cam.LastFragment) {
		cam.LastFragment = st.LastFragment
	}
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

// rtspTunnels hands the connections of the HTTP port's RTSP tunnels to the RTSP server
// (api.Tunnels): a tunnel GET or POST with the head the HTTP server read, a WebSocket's stream.
type rtspTunnels struct{ srv *rtsp.Server }

// ServeHTTPTunnel implements api.Tunnels.
func (t rtspTunnels) ServeHTTPTunnel(nc net.Conn, head []byte, tls bool) error {
	return t.srv.ServeConn(nc, rtsp.ConnOptions{Prefix: head, TLS: tls})
}

// ServeWebSocket implements api.Tunnels.
func (t rtspTunnels) ServeWebSocket(nc net.Conn, tls bool) error {
	return t.srv.ServeConn(nc, rtsp.ConnOptions{TLS: tls, WebSocket: true})
}

// apiSessions lists the RTSP server's sessions (publishers and viewers, kickable) and the pulled
// cameras (not kickable: their schedule owns them) for the API. Session IDs carry their kind:
// "rtsp/{id}" and "pull/{camera}".
type apiSessions struct {
	rtsp *rtsp.Server
	pull *ingest.Pull
}

const (
	rtspSessionPrefix = "rtsp/"
	pullSessionPrefix = "pull/"
)

// Sessions implements api.Sessions.
func (a apiSessions) Sessions() []api.Session {
	var out []api.Session
	for _, s := range a.rtsp.Sessions() {
		out = append(out, api.Session{ID: rtspSessionPrefix + s.ID, Kind: "rtsp", Mode: s.Mode,
			Camera: sessionCamera(s.Path), Path: s.Path, Peer: s.Peer.String(), User: s.User,
			Transport: s.Transport, TLS: s.TLS, Started: s.Started, Playing: s.Playing,
			BytesIn: s.BytesIn, BytesOut: s.BytesOut})
	}
	for _, st := range a.pull.States() {
		s := api.Session{ID: pullSessionPrefix + st.Name, Kind: "pull", Mode: "record", Camera: st.Name,
			Transport: st.Transport, Playing: st.State == ingest.PullRecording, BytesIn: st.Bytes}
		if s.Playing {
			s.Started = st.Since
		}
		out = append(out, s)
	}
	return out
}

// sessionCamera returns the camera an RTSP path is about: "lobby" for "lobby" and
// "archive/lobby"; "" for a path that names no camera.
func sessionCamera(p string) string {
	p = strings.TrimPrefix(p, archivePrefix)
	if storage.ValidCamera(p) != nil {
		return ""
	}
	return p
}

// Kick implements api.Sessions.
func (a apiSessions) Kick(id string) error {
	if rid, ok := strings.CutPrefix(id, rtspSessionPrefix); ok {
		err := a.rtsp.Kick(rid)
		if errors.Is(err, rtsp.ErrSessionNotFound) {
			return api.ErrNotFound
		}
		return err
	}
	if name, ok := strings.CutPrefix(id, pullSessionPrefix); ok {
		if _, ok := a.pull.Camera(name); ok {
			return api.ErrNotKickable
		}
	}
	return api.ErrNotFound
}
