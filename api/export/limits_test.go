package export_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api/export"
)

// blockedWriter is a ResponseWriter whose first Write reports on entered and
// then waits for release.
type blockedWriter struct {
	h       http.Header
	entered chan struct{}
	release chan struct{}
	first   bool
}

func (w *blockedWriter) Header() http.Header { return w.h }
func (w *blockedWriter) WriteHeader(int)     {}
func (w *blockedWriter) Write(p []byte) (int, error) {
	if !w.first {
		w.first = true
		close(w.entered)
		<-w.release
	}
	return len(p), nil
}

// TestMaxConcurrent: while Options.MaxConcurrent exports run, one more is
// refused with 503 and a Retry-After; once one ends, the next is served
// (review finding 2: exports had no concurrency limit).
func TestMaxConcurrent(t *testing.T) {
	st := recordings(t)
	srv, err := export.New(st, export.Options{MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	start, end := t0, t0.Add(10*time.Second)
	req := httptest.NewRequest(http.MethodGet, "/cam", nil)
	bw := &blockedWriter{h: http.Header{}, entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- srv.ServeExport(bw, req, "cam", start, end, export.FormatFMP4) }()
	<-bw.entered
	err = srv.ServeExport(httptest.NewRecorder(), req, "cam", start, end, export.FormatMP4)
	var e *export.Error
	if !errors.As(err, &e) || e.HTTPStatus() != http.StatusServiceUnavailable || !errors.Is(err, export.ErrBusy) || e.RetryAfter() <= 0 {
		t.Fatalf("a second export while one runs: %v, want ErrBusy with 503 and a Retry-After", err)
	}
	close(bw.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := srv.ServeExport(rec, req, "cam", start, end, export.FormatMP4); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("after the first ended: %v, status %d", err, rec.Code)
	}
}

// TestPresizeBounded: a plan reserves at most max_samples+1 samples for all
// its tracks together, not that many per track (review finding 2).
func TestPresizeBounded(t *testing.T) {
	st := recordings(t)
	const maxSamples = 1000
	srv, err := export.New(st, export.Options{MaxSamples: maxSamples})
	if err != nil {
		t.Fatal(err)
	}
	n, err := export.PresizedSamples(srv, "cam", t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n > maxSamples+1 || n < maxSamples/2 {
		t.Errorf("reserved %d samples for a window of more than %d, want at most %d", n, maxSamples, maxSamples+1)
	}
}

// TestOptionsValidate: max_concurrent is checked like the other settings.
func TestOptionsValidate(t *testing.T) {
	o := export.DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o.MaxConcurrent = 5000
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "max_concurrent") {
		t.Errorf("max_concurrent 5000: %v", err)
	}
}

// TestRefusalsReturned: the 412 and 416 that http.ServeContent decides are
// returned as an *Error with nothing written, so that the API answers them
// as problems like every other error, the 416 keeping its Content-Range
// (review finding 17).
func TestRefusalsReturned(t *testing.T) {
	st := recordings(t)
	srv, err := export.New(st, export.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		header, value string
		status        int
		sentinel      error
	}{
		{"Range", "bytes=999999999-", http.StatusRequestedRangeNotSatisfiable, export.ErrRange},
		{"If-Match", `"other"`, http.StatusPreconditionFailed, export.ErrPrecondition},
	} {
		req := httptest.NewRequest(http.MethodGet, "/cam", nil)
		req.Header.Set(tc.header, tc.value)
		rec := httptest.NewRecorder()
		err := srv.ServeExport(rec, req, "cam", t0, t0.Add(10*time.Second), export.FormatMP4)
		var e *export.Error
		if !errors.As(err, &e) || e.HTTPStatus() != tc.status || !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: %v, want %d", tc.header, err, tc.status)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("%s: wrote %q", tc.header, rec.Body)
		}
		if tc.status == http.StatusRequestedRangeNotSatisfiable && !strings.HasPrefix(rec.Header().Get("Content-Range"), "bytes */") {
			t.Errorf("416 without Content-Range: %v", rec.Header())
		}
	}
}
