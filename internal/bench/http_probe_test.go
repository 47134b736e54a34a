package bench

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/auth"
)

// startAPI serves a real api.Server on loopback with /metrics (a real
// registry) and no cameras or archive, whose routes then answer 503. Its
// one user has a bearer token and the api and metrics rights; the token is
// returned. The server stops when the test ends.
func startAPI(t *testing.T) (addr, token string) {
	t.Helper()
	token, hash, err := auth.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	authority, err := auth.New(auth.Config{Users: []auth.UserConfig{{Name: benchUser, Tokens: []string{hash},
		Permissions: []auth.Permission{{Action: "api"}, {Action: "metrics"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New(metrics.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	srv, err := api.New(cfg, api.Deps{Authority: authority, Metrics: m.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("api Run: %v", err)
		}
		_ = srv.Close() // after Run: releases nothing more
	})
	return srv.Addr().String(), token
}

// TestHTTPProbe probes a real API server: /metrics answers 200 and is
// timed, the camera routes answer 503 (no cameras wired) and count as
// failures with the answer quoted, and without the token every route fails
// with 401.
func TestHTTPProbe(t *testing.T) {
	addr, token := startAPI(t)
	for _, tc := range []struct {
		name  string
		token string
		codes []string // per route, "" for success
	}{
		{"token", token, []string{"503 Service Unavailable", "503 Service Unavailable", ""}},
		{"anonymous", "", []string{"401 Unauthorized", "401 Unauthorized", "401 Unauthorized"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newHTTPProbe(addr, tc.token, []string{"cam-a", "cam-b"}, 20*time.Millisecond)
			now := time.Now()
			stats := p.run(context.Background(), now, now.Add(60*time.Millisecond))
			if len(stats) != len(tc.codes) {
				t.Fatalf("%d routes, want %d", len(stats), len(tc.codes))
			}
			for i, st := range stats {
				if st.requests() < 1 || st.requests() != stats[0].requests() {
					t.Errorf("%s: %d requests, route 0 had %d", st.route, st.requests(), stats[0].requests())
				}
				if tc.codes[i] == "" {
					if st.problem() != "" || len(st.lat) != st.requests() || !strings.Contains(st.String(), " p99 ") {
						t.Errorf("%s: %q, %q", st.route, st.problem(), st)
					}
					continue
				}
				if st.failures != st.requests() || !strings.Contains(st.problem(), tc.codes[i]) {
					t.Errorf("%s: %d of %d failed: %q, want every one %s", st.route, st.failures, st.requests(), st.problem(), tc.codes[i])
				}
				if !strings.Contains(st.String(), "none answered") {
					t.Errorf("%s: %q", st.route, st)
				}
			}
			if p := stats[1].problem(); !strings.Contains(p, "/api/v1/cameras/cam-a/recordings?end=") {
				t.Errorf("recordings problem %q does not quote the first target", p)
			}
		})
	}
}

// TestHTTPProbeNothingSent: a window that is already over sends nothing,
// and that is a problem of every route.
func TestHTTPProbeNothingSent(t *testing.T) {
	t.Parallel()
	p := newHTTPProbe("127.0.0.1:9", "", []string{"cam"}, time.Second)
	now := time.Now()
	for _, st := range p.run(context.Background(), now, now.Add(-time.Second)) {
		if st.requests() != 0 || !strings.Contains(st.problem(), "no request was sent") {
			t.Errorf("%s: %d requests, problem %q", st.route, st.requests(), st.problem())
		}
	}
}

func TestNextRound(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	const every = 250 * time.Millisecond
	for _, tc := range []struct {
		name string
		now  time.Duration // after t0
		want time.Duration // after t0
	}{
		{"on time", 10 * time.Millisecond, 250 * time.Millisecond},
		{"exactly at the next", 250 * time.Millisecond, 250 * time.Millisecond},
		{"late by a little", 260 * time.Millisecond, 500 * time.Millisecond},
		{"late by rounds", 1010 * time.Millisecond, 1250 * time.Millisecond},
	} {
		if got := nextRound(t0, every, t0.Add(tc.now)); !got.Equal(t0.Add(tc.want)) {
			t.Errorf("%s: nextRound = t0+%v, want t0+%v", tc.name, got.Sub(t0), tc.want)
		}
	}
}
