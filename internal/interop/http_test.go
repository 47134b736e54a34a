//go:build interop

package interop

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The HTTP side of issue 11 against the real binary (http_*_test.go): /metrics, the recordings API, the MP4
// export, holds across a restart and authentication, each checked against what ffprobe,
// ffmpeg and the index say of the recordings a real ffmpeg push made.

// httpClient keeps no idle connections, so that no transport goroutine outlives a test
// (TestMain's leak check).
var httpClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

// httpDo sends one request to camvault's HTTP API (path with its query) and returns the
// response, whose body is read whole and closed. header holds name, value pairs.
func (s *server) httpDo(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	return s.send(httpClient, method, "http://"+s.http+path, body, header)
}

// httpsDo is httpDo over HTTPS, trusting the server's certificate (tlsServerLater) only.
func (s *server) httpsDo(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	pem, err := os.ReadFile(s.cert)
	if err != nil {
		s.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		s.t.Fatalf("no certificate in %s", s.cert)
	}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return s.send(c, method, "https://"+s.https+path, body, header)
}

// send sends one request with c and returns the response with its whole body.
func (s *server) send(c *http.Client, method, target string, body []byte, header []string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp, b
}

// getJSON GETs path, wants 200 and decodes the JSON answer into v.
func (s *server) getJSON(path string, v any, header ...string) {
	s.t.Helper()
	resp, body := s.httpDo(http.MethodGet, path, nil, header...)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// scrape GETs /metrics and returns the text and its parsed families.
func (s *server) scrape(header ...string) ([]byte, map[string]*dto.MetricFamily) {
	s.t.Helper()
	resp, body := s.httpDo(http.MethodGet, "/metrics", nil, header...)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		s.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return body, fams
}

// metricValue returns the value of the series of family name whose labels are exactly
// labels (name, value pairs), and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// hasLabels reports whether m's labels are exactly the pairs of labels.
func hasLabels(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel()) != len(labels)/2 {
		return false
	}
	for i := 0; i+1 < len(labels); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
		}) {
			return false
		}
	}
	return true
}

// waitSealed waits, through /metrics, until camera has no open recording and storage has
// sealed n of its segments: what a publisher's TEARDOWN leads to.
func (s *server) waitSealed(camera string, n int, header ...string) {
	s.t.Helper()
	s.waitFor(30*time.Second, fmt.Sprintf("%s: %d segments sealed, not recording", camera, n), func() bool {
		_, fams := s.scrape(header...)
		sealed, _ := metricValue(fams, "camvault_camera_segments_sealed_total", "camera", camera)
		recording, ok := metricValue(fams, "camvault_camera_recording", "camera", camera)
		return ok && recording == 0 && sealed >= float64(n)
	})
}

// clipArgs are the encoder arguments of the HTTP tests' clips: H.264 baseline, with AAC
// withAudio.
func clipArgs(withAudio bool) []string {
	if withAudio {
		return append(slices.Clone(x264Baseline), "-c:a", "aac", "-b:a", "64k")
	}
	return x264Baseline
}

// pushClip pushes a seconds-long clip (clipArgs) to camera over TCP and fails the test when
// ffmpeg does. It returns when ffmpeg has exited, and the time it began.
func (s *server) pushClip(camera string, seconds int, withAudio bool) time.Time {
	s.t.Helper()
	start, out, err := ffmpegPushClip(s.t, "rtsp://"+s.rtsp+"/"+camera, "tcp", seconds, withAudio, clipArgs(withAudio))
	if err != nil {
		s.t.Fatalf("ffmpeg push to %s: %v\n%s\ncamvault:\n%s", camera, err, out, s.logs)
	}
	return start
}

// pushClips pushes a seconds-long clip to every camera at once (with audio where withAudio
// says so) and waits for all of them. The clips are encoded first, in the test's goroutine,
// so that a failed encode fails the test there.
func (s *server) pushClips(seconds int, withAudio map[string]bool) {
	s.t.Helper()
	for _, audio := range withAudio {
		encodedClip(s.t, seconds, audio, clipArgs(audio))
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(withAudio))
	for camera, audio := range withAudio {
		wg.Go(func() {
			if _, out, err := ffmpegPushClip(s.t, "rtsp://"+s.rtsp+"/"+camera, "tcp", seconds, audio, clipArgs(audio)); err != nil {
				errs <- fmt.Sprintf("ffmpeg push to %s: %v\n%s", camera, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		s.t.Errorf("%s", e)
	}
	if s.t.Failed() {
		s.t.Fatalf("camvault:\n%s", s.logs)
	}
}

// apiTime formats t for a query or body: RFC 3339 in UTC with nanoseconds.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// window returns the query of [start, end) plus the other key, value pairs.
func window(start, end time.Time, kv ...string) string {
	q := url.Values{"start": {apiTime(start)}, "end": {apiTime(end)}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q.Encode()
}

// spanOut is a span or gap of the recordings answer.
type spanOut struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration"`
}

type recordingsOut struct {
	Spans    []spanOut `json:"spans"`
	Gaps     []spanOut `json:"gaps"`
	Recorded float64   `json:"recorded"`
}

type summaryOut struct {
	TZ      string `json:"tz"`
	Buckets []struct {
		Start     time.Time `json:"start"`
		End       time.Time `json:"end"`
		Recorded  float64   `json:"recorded"`
		Fragments int       `json:"fragments"`
	} `json:"buckets"`
}

// TestHTTPAuth runs camvault with users and checks the HTTP API's authentication on the real
// binary: a bearer token from `camvault token` and a Basic password from loopback and over
// HTTPS (the RTSPS certificate) work, a
// user without the api right gets 403, an anonymous caller 401 with the challenges, all as
// problem+json; refused credentials count in camvault_auth_failures_total; /healthz needs
// nothing.
func TestHTTPAuth(t *testing.T) {
	t.Parallel()
	out, err := run(t, time.Minute, camvaultBinary(t), "token", "-user", "tokuser")
	if err != nil {
		t.Fatalf("camvault token: %v\n%s", err, out)
	}
	var token, tokensLine string
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			token = strings.TrimSpace(v)
		}
		if strings.HasPrefix(strings.TrimSpace(line), "tokens: [") {
			tokensLine = strings.TrimRight(line, "\n")
		}
	}
	if token == "" || tokensLine == "" {
		t.Fatalf("camvault token printed no token or tokens line:\n%s", out)
	}
	users := usersYAML(t, []testUser{{"apiuser", "api", "*"}, {"viewer", "playback", "*"}}) +
		"  - name: tokuser\n" + tokensLine + "\n    permissions: [{action: api, cameras: [\"*\"]}, {action: metrics}]\n"
	s, _ := tlsServerLater(t, users)
	s.start()
	t.Cleanup(s.stop)
	bearer := []string{"Authorization", "Bearer " + token}
	basic := func(user, password string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
	}
	var cams struct{ Cameras []json.RawMessage }
	s.getJSON("/api/v1/cameras", &cams, bearer...)
	s.getJSON("/api/v1/cameras", &cams, basic("apiuser", "resuipa")...)
	// Over HTTPS (the RTSPS certificate) Basic works as from loopback, and anonymous is refused.
	if resp, body := s.httpsDo(http.MethodGet, "/api/v1/cameras", nil, basic("apiuser", "resuipa")...); resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("Basic over HTTPS: %s, TLS %v\n%s", resp.Status, resp.TLS != nil, body)
	}
	if resp, body := s.httpsDo(http.MethodGet, "/api/v1/cameras", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous over HTTPS: %s\n%s", resp.Status, body)
	}
	var health struct{ Status string }
	if s.getJSON("/healthz", &health); health.Status != "ok" {
		t.Errorf("/healthz says %q", health.Status)
	}
	for _, tc := range []struct {
		name   string
		path   string
		header []string
		status int
	}{
		{"anonymous", "/api/v1/cameras", nil, http.StatusUnauthorized},
		{"anonymous metrics", "/metrics", nil, http.StatusUnauthorized},
		{"no api right", "/api/v1/cameras", basic("viewer", "reweiv"), http.StatusForbidden},
		{"no metrics right", "/metrics", basic("apiuser", "resuipa"), http.StatusForbidden},
		{"wrong password", "/api/v1/cameras", basic("apiuser", "nope"), http.StatusUnauthorized},
		{"wrong token", "/api/v1/cameras", []string{"Authorization", "Bearer cvt_nope"}, http.StatusUnauthorized},
	} {
		resp, body := s.httpDo(http.MethodGet, tc.path, nil, tc.header...)
		var p struct{ Status int }
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(body, &p) != nil || p.Status != tc.status {
			t.Errorf("%s: %s, %q: %s; want %d as application/problem+json", tc.name, resp.Status, resp.Header.Get("Content-Type"), body, tc.status)
		}
		challenges := resp.Header.Values("WWW-Authenticate")
		if tc.status == http.StatusUnauthorized && (len(challenges) != 2 ||
			!strings.HasPrefix(challenges[0], "Basic ") || !strings.HasPrefix(challenges[1], "Bearer ")) {
			t.Errorf("%s: WWW-Authenticate %q, want the Basic and Bearer challenges", tc.name, challenges)
		}
	}
	_, fams := s.scrape(bearer...)
	if n, _ := metricValue(fams, "camvault_auth_failures_total", "protocol", "http"); n != 2 {
		t.Errorf("camvault_auth_failures_total{protocol=\"http\"} is %v after a wrong password and a wrong token, want 2", n)
	}
}
