package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// servingWatcher is the serve's stderr: it hands the "camvault serving" line's HTTP address
// to addr once.
type servingWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

var httpAddrRE = regexp.MustCompile(`camvault serving.* http=(\S+)`)

func (w *servingWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := httpAddrRE.FindSubmatch(w.buf.Bytes()); m != nil && !w.sent {
		w.sent = true
		w.addr <- string(m[1])
	}
	return len(p), nil
}

func (w *servingWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServeHTTP: `camvault serve -http 127.0.0.1:0` answers /healthz and, to a loopback client
// of a serve without users, /api/v1/cameras with the recorded camera; it stops on its context.
func TestServeHTTP(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	st, err := storage.Open(storage.Config{Dir: data, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	rel := "recordings/door/2026-03-29/100000.000Z.mp4"
	if err := os.MkdirAll(filepath.Join(data, filepath.Dir(rel)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, rel), make([]byte, 1000), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSealed([]storage.SegmentInfo{{Camera: "door", Start: t0, End: t0.Add(time.Second), File: rel, Bytes: 1000,
		State: storage.StateSealed, Tracks: []string{"H264 640x480"},
		Fragments: []storage.Fragment{{Start: t0, Duration: time.Second, Size: 1000, Key: true}}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := &servingWatcher{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-data", data, "-rtsp", "127.0.0.1:0", "-http", "127.0.0.1:0"}, io.Discard, w)
	}()
	var addr string
	select {
	case addr = <-w.addr:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, w)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, []byte) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
	code, body := get("/api/v1/cameras")
	var list struct {
		Cameras []struct {
			Name, Source, State string
			Tracks              []string
			LastFragment        string `json:"last_fragment"`
		}
	}
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Cameras) != 1 ||
		list.Cameras[0].Name != "door" || list.Cameras[0].LastFragment != "2026-03-29T10:00:01.000Z" || len(list.Cameras[0].Tracks) != 1 {
		t.Errorf("/api/v1/cameras: %d %s (%v)", code, body, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, w)
	}
}

// TestServeBusyHTTPReleasesEverything: with the HTTP address taken, serve fails to start and
// releases what it had started: the RTSP address binds again and the index opens again.
func TestServeBusyHTTPReleasesEverything(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	rtspAddr := freeTCPAddr(t)
	path := writeConfig(t, fmt.Sprintf("data_dir: %s\nrtsp: {address: %q, udp_rtp_address: \"\"}\nhttp: {address: %q}\n",
		filepath.Join(dir, "data"), rtspAddr, busy.Addr().String()))
	var stderr bytes.Buffer
	err = run(t.Context(), []string{"serve", "-config", path}, &stderr, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("serve with a busy HTTP address: %v, want address in use\n%s", err, &stderr)
	}
	if err := bindAgain("tcp", rtspAddr); err != nil {
		t.Errorf("RTSP address still bound after the failed serve: %v", err)
	}
	st, err := storage.Open(storage.Config{Dir: filepath.Join(dir, "data"), IndexTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("index still held after the failed serve: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
