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
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exporter := exporterFunc(func(w http.ResponseWriter, _ *http.Request) error {
		endless(w, done)
		return nil
	})
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { endless(w, done) })
	srv, err := api.New(api.Config{Address: "127.0.0.1:0", WriteTimeout: 200 * time.Millisecond},
		api.Deps{Authority: a, Exporter: exporter, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, target := range []string{"/metrics", exportTarget} {
		conn, err := net.Dial("tcp", srv.Addr().String())
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
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	exporter := exporterFunc(func(http.ResponseWriter, *http.Request) error { return busyError{} })
	srv, err := api.New(api.Config{}, api.Deps{Authority: a, Exporter: exporter})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, exportTarget, nil)
	req.RemoteAddr = loopback
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
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
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	srv, err := api.New(api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		api.Deps{Authority: a, Archive: notReadyArchive{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	probe := func() {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		req.RemoteAddr = loopback
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
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
