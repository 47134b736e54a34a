package api_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/storage"
)

// This file holds the test's sources behind the api interfaces. The
// Archive is a test-only one over a real storage.Store: storage's own
// Spans, Summaries, Usage and holds land with another part of issue 11,
// and the integration replaces this with the adapter over them.

// cheap argon2id parameters, so the tests do not spend 19 MiB per check.
var testParams = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	far      = "198.51.100.7:40000" // a non-loopback peer
	loopback = "127.0.0.1:40000"
)

// fixture is a Server over a real Store in a temp dir and a real Authority.
type fixture struct {
	t        testing.TB
	dir      string
	store    *storage.Store
	srv      *api.Server
	archive  *storeArchive
	sessions *testSessions
	export   *testExporter
	token    string // robot's bearer token (api on lobby-*, read on door)
	failures int    // AuthFailure calls
	observed []string
	// relay is the live relay; door is live on it (no packets yet) through
	// doorLive, whose tracks are H.264 and AAC.
	relay    *live.Relay
	doorLive ingest.Writer
	ended    []string // LiveEnded reasons
	started  int      // LiveStarted calls
	mu       sync.Mutex
	now      time.Time
}

func hashOf(t testing.TB, password string) string {
	t.Helper()
	h, err := auth.HashPassword(password, testParams, bytes.NewReader(make([]byte, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// newFixture builds the fixture; users: ops (every right), robot (bearer,
// api on lobby-*, read on door), viewer (read only), player (playback on
// door). configure, if given, changes the server's Config.
func newFixture(t testing.TB, configure ...func(*api.Config)) *fixture {
	t.Helper()
	return newFixtureDeps(t, nil, configure...)
}

// newFixtureDeps is newFixture whose Deps deps, if not nil, changes before the server is
// built.
func newFixtureDeps(t testing.TB, deps func(*api.Deps), configure ...func(*api.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), now: time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)}
	st, err := storage.Open(storage.Config{Dir: f.dir, Sync: storage.SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	tok, hash, err := auth.NewToken(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	f.token = tok
	authority, err := auth.New(auth.Config{Users: []auth.UserConfig{
		{Name: "ops", PasswordArgon2id: hashOf(t, "pw"), Permissions: []auth.Permission{
			{Action: "api"}, {Action: "metrics"}, {Action: "playback", Cameras: []string{"*"}}, {Action: "read", Cameras: []string{"*"}}}},
		{Name: "robot", Tokens: []string{hash}, Permissions: []auth.Permission{
			{Action: "api", Cameras: []string{"lobby-*"}}, {Action: "read", Cameras: []string{"door"}}}},
		{Name: "viewer", PasswordArgon2id: hashOf(t, "view"), Permissions: []auth.Permission{{Action: "read", Cameras: []string{"*"}}}},
		{Name: "player", PasswordArgon2id: hashOf(t, "play"), Permissions: []auth.Permission{{Action: "playback", Cameras: []string{"door"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := auth.NewLimiter(auth.LimiterConfig{Threshold: 1000})
	if err != nil {
		t.Fatal(err)
	}
	f.archive = &storeArchive{Store: st}
	f.sessions = &testSessions{list: []api.Session{
		{ID: "s1", Kind: "rtsp", Mode: "record", Camera: "door", Path: "/door", Peer: "192.0.2.9:5000", Transport: "tcp", Started: f.now.Add(-time.Minute), Playing: true, BytesIn: 1000},
		{ID: "pull/lobby-1", Kind: "pull", Mode: "record", Camera: "lobby-1", Path: "rtsp://192.0.2.10/stream1", Transport: "tcp", Playing: true},
	}}
	f.export = &testExporter{}
	f.relay, err = live.New(live.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if f.doorLive, err = f.relay.Open("door", liveTracks(), ingest.Feed{TCP: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.doorLive.Close)
	cfg := api.Config{Address: "127.0.0.1:0"}
	for _, c := range configure {
		c(&cfg)
	}
	d := api.Deps{
		Authority: authority, Limiter: limiter, Cameras: storeCameras{st}, Archive: f.archive, Retention: st,
		Exporter: f.export, Sessions: f.sessions, Live: f.relay,
		LiveStarted: func() { f.mu.Lock(); f.started++; f.mu.Unlock() },
		LiveEnded:   func(why string) { f.mu.Lock(); f.ended = append(f.ended, why); f.mu.Unlock() },
		Metrics:     http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "up 1\n") }),
		ObserveHTTP: func(route string, _ int, _ time.Duration) {
			f.mu.Lock()
			f.observed = append(f.observed, route)
			f.mu.Unlock()
		},
		AuthFailure: func(string) { f.mu.Lock(); f.failures++; f.mu.Unlock() },
		Now:         func() time.Time { return f.now },
	}
	if deps != nil {
		deps(&d)
	}
	f.srv, err = api.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Listen(); err != nil { // /readyz wants the listener bound
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// segment stores a sealed segment of camera [start, end) with one-second
// fragments and a file of 1000 bytes per fragment.
func (f *fixture) segment(camera string, start, end time.Time) {
	f.t.Helper()
	var frags []storage.Fragment
	for at := start; at.Before(end); at = at.Add(time.Second) {
		frags = append(frags, storage.Fragment{Start: at, Duration: min(time.Second, end.Sub(at)), Offset: int64(len(frags)) * 1000, Size: 1000, Key: true})
	}
	rel := path.Join("recordings", camera, start.UTC().Format("2006-01-02"), start.UTC().Format("150405.000Z")+".mp4")
	p := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, 1000*len(frags)), 0o640); err != nil {
		f.t.Fatal(err)
	}
	info := storage.SegmentInfo{Camera: camera, Start: start, End: end, File: rel, Bytes: int64(1000 * len(frags)),
		State: storage.StateSealed, Tracks: []string{"H264 640x480"}, Fragments: frags}
	if err := f.store.PutSealed([]storage.SegmentInfo{info}); err != nil {
		f.t.Fatal(err)
	}
}

// request is one request to the fixture's server.
type request struct {
	method, target, body, contentType string
	peer                              string // RemoteAddr; far when ""
	tls                               bool
	user, password                    string // Basic when user != ""
	bearer                            string
}

// answer is a recorded answer.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a answer) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d Content-Type %q, want application/problem+json; body %s", a.code, ct, a.body)
	}
	var p map[string]any
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	if p["status"] != float64(a.code) || p["type"] != "about:blank" || p["title"] != http.StatusText(a.code) {
		t.Fatalf("problem %v for status %d", p, a.code)
	}
	return p
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%v in %s", err, a.body)
	}
}

func (f *fixture) do(rq request) answer {
	f.t.Helper()
	req := f.build(rq)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return answer{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (f *fixture) build(rq request) *http.Request {
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req := httptest.NewRequest(method, rq.target, body)
	req.RemoteAddr = rq.peer
	if req.RemoteAddr == "" {
		req.RemoteAddr = far
	}
	if rq.tls {
		req.TLS = &tls.ConnectionState{}
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.user != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rq.user+":"+rq.password)))
	}
	if rq.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+rq.bearer)
	}
	return req
}

// ops returns rq as ops over TLS.
func ops(rq request) request {
	rq.tls, rq.user, rq.password = true, "ops", "pw"
	return rq
}

// storeCameras lists the cameras of the store as pushed cameras.
type storeCameras struct{ s *storage.Store }

func (c storeCameras) Cameras(time.Time) ([]api.Camera, error) {
	names, err := c.s.Cameras()
	if err != nil {
		return nil, err
	}
	var out []api.Camera
	for _, n := range names {
		out = append(out, api.Camera{Name: n, Source: "push", State: api.StateIdle, AlwaysOn: true})
	}
	return out, nil
}

func (c storeCameras) Camera(name string, now time.Time) (api.Camera, bool, error) {
	cams, err := c.Cameras(now)
	i := slices.IndexFunc(cams, func(cam api.Camera) bool { return cam.Name == name })
	if err != nil || i < 0 {
		return api.Camera{}, false, err
	}
	return cams[i], true, nil
}

// storeArchive is the test's Archive: the real Store, noting the limit of the last Spans call.
type storeArchive struct {
	*storage.Store
	mu         sync.Mutex
	spansLimit int // the limit of the last Spans call
}

// Spans notes limit and asks the Store.
func (a *storeArchive) Spans(camera string, from, to time.Time, tol time.Duration, limit int) ([]storage.Span, error) {
	a.mu.Lock()
	a.spansLimit = limit
	a.mu.Unlock()
	return a.Store.Spans(camera, from, to, tol, limit)
}

// testSessions is a fixed session table that records kicks.
type testSessions struct {
	mu     sync.Mutex
	list   []api.Session
	kicked []string
}

func (s *testSessions) Sessions() []api.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

func (s *testSessions) Kick(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(id, "pull/") {
		return api.ErrNotKickable
	}
	i := slices.IndexFunc(s.list, func(x api.Session) bool { return x.ID == id })
	if i < 0 {
		return api.ErrNotFound
	}
	s.kicked = append(s.kicked, id)
	s.list = slices.Delete(s.list, i, i+1)
	return nil
}

// testExporter answers a fixed body, or an error with a status for the
// camera "missing".
type testExporter struct{}

// statusError is an Archive or Exporter error with the status the API
// answers.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string   { return e.err.Error() }
func (e *statusError) HTTPStatus() int { return e.status }

func (testExporter) ServeExport(w http.ResponseWriter, _ *http.Request, camera string, start, end time.Time, format string) error {
	if camera == "missing" {
		return &statusError{status: http.StatusNotFound, err: errors.New("no recordings in the window")}
	}
	if !end.After(start) {
		return errors.New("bad window")
	}
	w.Header().Set("Content-Type", "video/mp4")
	_, err := io.WriteString(w, format+":"+camera)
	return err
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// holdOf is a hold of camera for the first five minutes of 10:00 UTC.
func holdOf(camera string) storage.StoredHold {
	from := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	return storage.StoredHold{Camera: camera, From: from, To: from.Add(5 * time.Minute), Reason: "test"}
}

// storageRetention is a policy that deletes everything older than maxAge.
func storageRetention(maxAge time.Duration) storage.Retention {
	return storage.Retention{Default: storage.RetentionPolicy{MaxAge: maxAge}}
}
