package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCameraConfig(t *testing.T) {
	const good = `
cameras:
  frontdoor: {}
  lobby:
    url: rtsp://user:secret@192.0.2.10/stream1
    transport: udp
    schedule:
      - {cron: "0 8 * * 1-5", duration: 10h}
      - {cron: "CRON_TZ=Europe/Berlin 0 22 * * *", duration: 10h}
  yard:
    url: rtsp://192.0.2.11:8554/live
    schedule: always
  gate:
    url: rtsp://192.0.2.12/live
`
	cfg := loadTestConfig(t, good)
	lobby := cfg.Cameras["lobby"]
	if lobby.Transport != "udp" || len(lobby.Schedule.Rules) != 2 || lobby.Schedule.Rules[1].Duration != 10*time.Hour {
		t.Errorf("lobby = %+v", lobby)
	}
	if !cfg.Cameras["yard"].Schedule.Always || !cfg.Cameras["gate"].Schedule.schedule().Always {
		t.Errorf("yard %+v gate %+v: want always", cfg.Cameras["yard"], cfg.Cameras["gate"])
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"schedule word", "cameras: {a: {url: rtsp://h/s, schedule: sometimes}}", `must be "always"`},
		{"unknown rule key", "cameras: {a: {url: rtsp://h/s, schedule: [{cron: '0 8 * * *', duration: 1h, x: 1}]}}", "unknown field"},
		{"bad cron", "cameras: {a: {url: rtsp://h/s, schedule: [{cron: 'every day', duration: 1h}]}}", "cameras.a.schedule"},
		{"zero duration", "cameras: {a: {url: rtsp://h/s, schedule: [{cron: '0 8 * * *', duration: 0s}]}}", "cameras.a.schedule"},
		{"bad transport", "cameras: {a: {url: rtsp://h/s, transport: sctp}}", "cameras.a.transport"},
		{"not rtsp", "cameras: {a: {url: 'http://user:pw@h/s'}}", "cameras.a.url"},
		{"pull settings without url", "cameras: {a: {transport: tcp}}", "need a url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func loadTestConfig(t *testing.T, body string) *fileConfig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
