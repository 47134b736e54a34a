package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// probeTimeout bounds one probe request, body included.
	probeTimeout = 10 * time.Second
	// minProbeEvery is the shortest -http-probe-every.
	minProbeEvery = 10 * time.Millisecond
	// probeErrorBytes is how much of a failed answer's body a problem
	// quotes.
	probeErrorBytes = 200
)

// httpProbe asks the HTTP API and /metrics of a camvault under test at a
// fixed pace: every interval it sends one request per route, one after the
// other, from one client over one keep-alive connection, and times each
// from sending the request to reading the last byte of the answer.
type httpProbe struct {
	base    string // "http://127.0.0.1:PORT"
	token   string // bearer token; "" asks anonymously (loopback)
	cameras []string
	every   time.Duration
	client  *http.Client
}

// probeRoute is one probed route: name is what the results call it, and
// target the request target at now for the k-th probe round.
type probeRoute struct {
	name   string
	target func(now time.Time, k int) string
}

// probeStats are one route's results.
type probeStats struct {
	route    string
	lat      []time.Duration // of the requests answered 200
	failures int
	firstErr error
}

// newHTTPProbe returns a probe of the camvault whose plain HTTP listens on
// addr; the recordings route asks each of cameras in turn.
func newHTTPProbe(addr, token string, cameras []string, every time.Duration) *httpProbe {
	return &httpProbe{base: "http://" + addr, token: token, cameras: cameras, every: every,
		client: &http.Client{Timeout: probeTimeout}}
}

// routes are the probed routes: the camera list, the last hour of
// recordings of one camera, and the Prometheus scrape.
func (p *httpProbe) routes() []probeRoute {
	return []probeRoute{
		{"GET /api/v1/cameras", func(time.Time, int) string { return "/api/v1/cameras" }},
		{"GET /api/v1/cameras/{camera}/recordings", func(now time.Time, k int) string {
			q := url.Values{"start": {now.Add(-time.Hour).UTC().Format(time.RFC3339)}, "end": {now.UTC().Format(time.RFC3339)}}
			return "/api/v1/cameras/" + url.PathEscape(p.cameras[k%len(p.cameras)]) + "/recordings?" + q.Encode()
		}},
		{"GET /metrics", func(time.Time, int) string { return "/metrics" }},
	}
}

// run probes from from until to (or until ctx is done) and returns each
// route's results in the order of routes. A round that starts late (the
// previous one took longer than the interval) skips the rounds it missed.
func (p *httpProbe) run(ctx context.Context, from, to time.Time) []*probeStats {
	routes := p.routes()
	stats := make([]*probeStats, len(routes))
	for i, r := range routes {
		stats[i] = &probeStats{route: r.name}
	}
	defer p.client.CloseIdleConnections()
	next := from
	for k := 0; next.Before(to); k++ {
		if sleepUntil(ctx, next) != nil {
			break
		}
		for i, r := range routes {
			d, err := p.get(ctx, r.target(time.Now(), k))
			stats[i].add(d, err)
		}
		next = nextRound(next, p.every, time.Now())
	}
	return stats
}

// nextRound returns the first instant after prev on the grid of every
// that is not before now.
func nextRound(prev time.Time, every time.Duration, now time.Time) time.Time {
	next := prev.Add(every)
	if late := now.Sub(next); late > 0 {
		next = next.Add((late + every - 1) / every * every)
	}
	return next
}

// get sends one GET of target, reads the whole answer and returns the time
// it took; any answer but 200 is an error.
func (p *httpProbe) get(ctx context.Context, target string) (time.Duration, error) {
	t0 := time.Now()
	err := httpGet(ctx, p.client, p.base+target, p.token, func(body io.Reader) error {
		_, err := io.Copy(io.Discard, body)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", target, err)
	}
	return time.Since(t0), nil
}

// httpGet sends one GET of url, with token as a bearer token unless it is
// "", and hands the answer's body to read; any answer but 200 is an error
// that quotes the start of the body.
func httpGet(ctx context.Context, client *http.Client, url, token string, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, probeErrorBytes)) // quoted as far as it came
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if err := read(resp.Body); err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return nil
}

// add counts one request.
func (s *probeStats) add(d time.Duration, err error) {
	if err != nil {
		s.failures++
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	s.lat = append(s.lat, d)
}

// requests returns how many requests were sent.
func (s *probeStats) requests() int { return len(s.lat) + s.failures }

// problem describes the failures, "" when there were none and at least
// one request was answered.
func (s *probeStats) problem() string {
	switch {
	case s.failures > 0:
		return fmt.Sprintf("http probe %s: %d of %d requests failed, first: %v", s.route, s.failures, s.requests(), s.firstErr)
	case len(s.lat) == 0:
		return fmt.Sprintf("http probe %s: no request was sent in the measured window", s.route)
	}
	return ""
}

// String is the result line: count, p50, p99 and max latency.
func (s *probeStats) String() string {
	if len(s.lat) == 0 {
		return fmt.Sprintf("http %s: %d requests, none answered", s.route, s.requests())
	}
	return fmt.Sprintf("http %s: %d requests, p50 %v p99 %v max %v", s.route, s.requests(),
		pct(s.lat, 50), pct(s.lat, 99), slices.Max(s.lat).Round(10*time.Microsecond))
}
