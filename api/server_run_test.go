package api_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/testcert"
)

func newServer(t *testing.T, addr string) *api.Server {
	t.Helper()
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Address: addr}, api.Deps{Authority: a})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestServeLoopback serves over a real socket: /healthz answers, a source
// that is not wired answers 503, and Run returns when its context ends.
func TestServeLoopback(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr().String()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/cameras": 503, "/api/v1/storage": 503, "/metrics": 503} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if want == 503 && !strings.Contains(string(body), "not available") {
			t.Errorf("%s: %s", path, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestListenBusy: a busy address fails Listen and leaves nothing bound.
func TestListenBusy(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := newServer(t, l.Addr().String())
	if err := srv.Listen(); err == nil || srv.Addr() != nil {
		t.Fatalf("Listen on a busy address: %v, addr %v", err, srv.Addr())
	}
	if err := srv.Run(context.Background()); err == nil {
		t.Fatal("Run without listeners succeeded")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := api.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  api.Config
		key  string
	}{
		{"bad address", api.Config{Address: "8080"}, "address"},
		{"header timeout", api.Config{ReadHeaderTimeout: 1}, "read_header_timeout"},
		{"body", api.Config{MaxBodyBytes: 10}, "max_body_bytes"},
		{"spans", api.Config{MaxSpans: -1}, "max_spans"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	a, _ := auth.New(auth.Config{})
	if _, err := api.New(api.Config{}, api.Deps{}); err == nil {
		t.Error("New without an Authority")
	}
	if _, err := api.New(api.Config{TLSOnly: true}, api.Deps{Authority: a}); err == nil {
		t.Error("TLSOnly without TLS")
	}
}

// TestServeTLSOnly: with TLS and TLSOnly only HTTPS is served; anonymous callers get 401, and
// Basic credentials are checked over it (the camera source is not wired: 503).
func TestServeTLSOnly(t *testing.T) {
	a, err := auth.New(auth.Config{Users: []auth.UserConfig{{Name: "ops", PasswordArgon2id: hashOf(t, "pw"),
		Permissions: []auth.Permission{{Action: "api"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	cert := testcert.New(t, "localhost")
	srv, err := api.New(api.Config{Address: "127.0.0.1:0", TLSAddress: "127.0.0.1:0", TLSOnly: true,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, api.Deps{Authority: a})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != nil || srv.TLSAddr() == nil {
		t.Fatalf("addr %v, tls addr %v", srv.Addr(), srv.TLSAddr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a test certificate
	for _, tc := range []struct {
		user string
		want int
	}{{"", http.StatusUnauthorized}, {"ops", http.StatusServiceUnavailable}} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+srv.TLSAddr().String()+"/api/v1/cameras", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, "pw")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("user %q: %d, want %d", tc.user, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLimiterRefusesUnchecked: once an address is in the limiter's delay, even good credentials
// are refused unchecked, with Retry-After; other addresses are not affected.
func TestLimiterRefusesUnchecked(t *testing.T) {
	t.Parallel()
	a, err := auth.New(auth.Config{Users: []auth.UserConfig{{Name: "ops", PasswordArgon2id: hashOf(t, "pw"),
		Permissions: []auth.Permission{{Action: "api"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := auth.NewLimiter(auth.LimiterConfig{Threshold: 1, DelayMin: time.Minute, DelayMax: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	srv, err := api.New(api.Config{}, api.Deps{Authority: a, Limiter: lim, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	try := func(peer, password string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
		req.RemoteAddr, req.TLS = peer, &tls.ConnectionState{}
		req.SetBasicAuth("ops", password)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := try(far, "wrong"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", rec.Code)
	}
	rec := try(far, "pw")
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("Retry-After") != "60" || !strings.Contains(rec.Body.String(), "too many failed attempts") {
		t.Fatalf("good password in the delay: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec := try("203.0.113.5:1000", "pw"); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", rec.Code, rec.Body)
	}
	now = now.Add(time.Minute)
	if rec := try(far, "pw"); rec.Code != http.StatusOK {
		t.Fatalf("after the delay: %d %s", rec.Code, rec.Body)
	}
}

// TestStreamOutlivesReadTimeout: a stream route (the exports) keeps its request context past
// http.read_timeout, which bounds only reading the request.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 100 * time.Millisecond
	exporter := exporterFunc(func(w http.ResponseWriter, r *http.Request) error {
		select {
		case <-r.Context().Done():
			io.WriteString(w, "cancelled")
		case <-time.After(5 * readTimeout): // the span under test: past the read timeout
			io.WriteString(w, "alive")
		}
		return nil
	})
	addr := running(t, newLoopbackServer(t, api.Config{Address: "127.0.0.1:0", ReadTimeout: readTimeout}, api.Deps{Exporter: exporter}))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + exportTarget)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "alive" {
		t.Errorf("stream answered %q", body)
	}
}

// exportTarget is an export request any exporterFunc answers.
const exportTarget = "/api/v1/cameras/cam/export.m4s?start=2026-03-29T10:00:00Z&end=2026-03-29T11:00:00Z"

// exporterFunc is an api.Exporter of a function.
type exporterFunc func(w http.ResponseWriter, r *http.Request) error

func (f exporterFunc) ServeExport(w http.ResponseWriter, r *http.Request, _ string, _, _ time.Time, _ string) error {
	return f(w, r)
}
