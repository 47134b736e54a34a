package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/auth"
)

// endless writes 64 KiB chunks to w until a write fails, and reports that
// failure on done.
func endless(w http.ResponseWriter, done chan<- error) {
	chunk := make([]byte, 64<<10)
	for {
		if _, err := w.Write(chunk); err != nil {
			done <- err
			return
		}
		_ = http.NewResponseController(w).Flush()
	}
}

// TestStuckClientDropped: a client that sends a request and never reads the
// answer is dropped after http.write_timeout, both on /metrics (one deadline
// for the whole answer) and on an export stream (a deadline per write),
// instead of holding its handler forever (review finding 2).
func TestStuckClientDropped(t *testing.T) {
	done := make(chan error, 1)
	exporter := exporterFunc(func(w http.ResponseWriter, _ *http.Request) error {
		endless(w, done)
		return nil
	})
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { endless(w, done) })
	addr := running(t, newLoopbackServer(t, api.Config{Address: "127.0.0.1:0", WriteTimeout: 200 * time.Millisecond},
		api.Deps{Exporter: exporter, Metrics: metrics}))
	for _, target := range []string{"/metrics", exportTarget} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: camvault\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		select { // the bound only keeps a broken build from hanging the suite
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the handler still writes to a client that does not read", target)
		}
		conn.Close()
	}
}

// TestExportBusyRetryAfter: an exporter's 503 that says when to come back
// is a problem with Retry-After.
func TestExportBusyRetryAfter(t *testing.T) {
	exporter := exporterFunc(func(http.ResponseWriter, *http.Request) error { return busyError{} })
	rec := getLoopback(newLoopbackServer(t, api.Config{}, api.Deps{Exporter: exporter}), exportTarget)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("status %d, Retry-After %q, Content-Type %q", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"))
	}
}

type busyError struct{}

func (busyError) Error() string             { return "too many exports running" }
func (busyError) HTTPStatus() int           { return http.StatusServiceUnavailable }
func (busyError) RetryAfter() time.Duration { return 4500 * time.Millisecond }

// notReadyArchive is the fixture's archive whose index is not writable.
type notReadyArchive struct{ *storeArchive }

func (notReadyArchive) Ready() error { return errors.New("index not writable") }

// TestReadyzLogsOnce: probes of a store that is not ready answer 503 each
// time but log once per minute, not once per probe (review finding 15).
func TestReadyzLogsOnce(t *testing.T) {
	var logs bytes.Buffer
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	srv := newLoopbackServer(t, api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		api.Deps{Archive: notReadyArchive{}, Now: func() time.Time { return now }})
	probe := func() {
		t.Helper()
		if rec := getLoopback(srv, "/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d", rec.Code)
		}
	}
	for range 3 {
		probe()
		now = now.Add(10 * time.Second)
	}
	if n := strings.Count(logs.String(), `msg="not ready"`); n != 1 {
		t.Errorf("3 probes in 30s logged %d lines, want 1:\n%s", n, logs.String())
	}
	now = now.Add(time.Minute)
	probe()
	if n := strings.Count(logs.String(), `msg="not ready"`); n != 2 {
		t.Errorf("a probe a minute later: %d lines, want 2", n)
	}
}

// newLoopbackServer builds a Server over deps with no users (loopback may do
// everything) and cfg; deps.Authority is set here.
func newLoopbackServer(t *testing.T, cfg api.Config, deps api.Deps) *api.Server {
	t.Helper()
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	deps.Authority = a
	srv, err := api.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// getLoopback answers a GET of target from a loopback peer.
func getLoopback(srv http.Handler, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = loopback
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// running binds srv and serves it until the test ends; it returns the plain
// listener's address.
func running(t *testing.T, srv *api.Server) string {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv.Addr().String()
}

// TestClusterHandler: Deps.Cluster gets every GET under ClusterPathPrefix as it is, without
// the users' authentication (it checks its callers itself); without it those paths are 404.
func TestClusterHandler(t *testing.T) {
	peerHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, r.URL.Path)
	})
	target := api.ClusterPathPrefix + "segments/cam?from=1&to=2"
	get := func(srv http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "192.0.2.9:5000" // far: the API's routes would want credentials
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	rec := get(newLoopbackServer(t, api.Config{}, api.Deps{Cluster: peerHandler}))
	if rec.Code != http.StatusTeapot || rec.Body.String() != api.ClusterPathPrefix+"segments/cam" {
		t.Errorf("with Deps.Cluster: %d %q", rec.Code, rec.Body)
	}
	if rec := get(newLoopbackServer(t, api.Config{}, api.Deps{})); rec.Code != http.StatusNotFound {
		t.Errorf("without Deps.Cluster: %d", rec.Code)
	}
}
