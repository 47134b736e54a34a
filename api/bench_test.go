package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkCameraList: GET /api/v1/cameras of 200 cameras with a bearer token over TLS: the
// whole pipeline (route, token check, rights per camera, JSON) over the test's camera source.
func BenchmarkCameraList(b *testing.B) {
	f := newFixture(b)
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	for i := range 200 {
		f.segment(fmt.Sprintf("lobby-%03d", i), t0, t0.Add(time.Second))
	}
	req := f.build(request{target: "/api/v1/cameras", bearer: f.token, tls: true})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkRecordings: GET recordings of one day of 10-minute segments with 2 s gaps (144
// spans with gap_tolerance 0) with a bearer token, through the pipeline, over the test's archive
// on a real Store.
func BenchmarkRecordings(b *testing.B) {
	f := newFixture(b)
	t0 := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)
	for i := range 144 {
		s := t0.Add(time.Duration(i) * 10 * time.Minute)
		f.segment("lobby-1", s, s.Add(10*time.Minute-2*time.Second))
	}
	req := f.build(request{target: "/api/v1/cameras/lobby-1/recordings?start=2026-03-28T00:00:00Z&end=2026-03-29T00:00:00Z&gap_tolerance=0",
		bearer: f.token, tls: true})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
