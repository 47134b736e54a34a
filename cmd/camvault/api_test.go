package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
)

// TestAPICameras: the API's camera list over the serve's real parts shows a pulled camera
// with its URL stripped of credentials, its schedule windows ahead and its pull state, and the
// pulls as sessions that cannot be kicked.
func TestAPICameras(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(writeConfig(t, fmt.Sprintf("data_dir: %s\nrtsp: {address: \"127.0.0.1:0\", udp_rtp_address: \"\"}\ncameras:\n  lobby:\n    url: rtsp://admin:s3cret@192.0.2.10/stream1\n"+
		"    schedule: [{cron: \"0 8 * * *\", duration: 1h}]\n    retention: {max_age: 7d}\n", filepath.Join(t.TempDir(), "data"))))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	access, err := newRTSPAuth(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(cfg.storageConfig(log))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.SetRetention(cfg.retention())
	pull, err := ingest.NewPull(cfg.pullConfig(sink{}, nil, log))
	if err != nil {
		t.Fatal(err)
	}
	pull.Update(cfg.pullCameras()) // pull.Run is not called: nothing dials the camera
	recd, err := recorder.New(cfg.recorderConfig(log), store)
	if err != nil {
		t.Fatal(err)
	}
	defer recd.Close()
	srv, err := rtsp.NewServer(cfg.rtspServerConfig(rtspHandler{access: access}, access.rtspAccess(), nil, log))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mets, err := metrics.New(metrics.Sources{Store: store, Recorder: recd, Pull: pull, RTSP: rtspMetrics(func() *rtsp.Server { return srv }, pull)})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := export.New(store, cfg.Export)
	if err != nil {
		t.Fatal(err)
	}
	web, err := newAPIServer(cfg, access, apiParts{store: store, rec: recd, pull: pull, rtsp: srv, metrics: mets, exporter: exp}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	get := func(target string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "127.0.0.1:5000"
		rec := httptest.NewRecorder()
		web.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, string(body)
	}
	code, body := get("/api/v1/cameras/lobby")
	if code != http.StatusOK || strings.Contains(body, "s3cret") || strings.Contains(body, "admin") {
		t.Fatalf("%d %s", code, body)
	}
	var cam struct {
		Source, URL, State string
		AlwaysOn           bool `json:"always_on"`
		Schedule           []struct{ Start, End string }
		Retention          struct {
			MaxAge float64 `json:"max_age"`
		}
	}
	if err := json.Unmarshal([]byte(body), &cam); err != nil {
		t.Fatal(err)
	}
	if cam.Source != "pull" || cam.URL != "rtsp://192.0.2.10/stream1" || cam.State != "idle" || cam.AlwaysOn ||
		len(cam.Schedule) != maxScheduleWindows || cam.Retention.MaxAge != (7*24*time.Hour).Seconds() {
		t.Fatalf("camera %+v", cam)
	}
	first, err := time.Parse(time.RFC3339, cam.Schedule[0].Start)
	if err != nil || first.Before(time.Now().Add(-time.Hour)) || !strings.HasSuffix(cam.Schedule[0].Start, "Z") {
		t.Errorf("first window %s (%v)", cam.Schedule[0].Start, err)
	}
	if code, body := get("/api/v1/sessions"); code != http.StatusOK || !strings.Contains(body, `"id":"pull/lobby"`) {
		t.Errorf("sessions: %d %s", code, body)
	}
	req := httptest.NewRequest(http.MethodDelete, "/api/v1/sessions/pull%2Flobby", nil)
	req.RemoteAddr = "127.0.0.1:5000"
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, req)
	if rec.Code != http.StatusConflict {
		t.Errorf("kick a pull: %d %s", rec.Code, rec.Body)
	}
	if code, body := get("/api/v1/cameras/lobby/recordings?start=1&end=2"); code != http.StatusOK || !strings.Contains(body, `"spans":[]`) {
		t.Errorf("recordings of a camera with none: %d %s", code, body)
	}
	if code, body := get("/api/v1/cameras/lobby/export.mp4?start=1&end=2"); code != http.StatusNotFound ||
		!strings.Contains(body, `"status":404`) {
		t.Errorf("export of nothing: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, `camvault_rtsp_sessions{kind="pull"} 0`) {
		t.Errorf("metrics: %d %.300s", code, body)
	}
	if code, body := get("/api/v1/retention/dry-run"); code != http.StatusOK {
		t.Errorf("dry run: %d %s", code, body)
	}
}
