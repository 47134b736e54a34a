package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/internal/testcert"
	"github.com/camvault/camvault/storage"
)

// TestServeFailedStartReleasesEverything: a serve whose RTSP server fails to start (the RTCP
// port is taken) after the RTSP and RTSPS sockets are bound and the store is open releases all of
// them: the same ports bind again and the index opens again.
func TestServeFailedStartReleasesEverything(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := testcert.Write(t, dir, "localhost")
	rtspAddr, tlsAddr := freeTCPAddr(t), freeTCPAddr(t)
	rtp, rtcp := freeUDPPair(t)
	busy, err := net.ListenPacket("udp", rtcp)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	path := writeConfig(t, fmt.Sprintf("data_dir: %s\nrtsp: {address: %q, udp_rtp_address: %q, udp_rtcp_address: %q}\n"+
		"tls: {address: %q, cert: %s, key: %s}\n", filepath.Join(dir, "data"), rtspAddr, rtp, rtcp, tlsAddr, cert, key))

	var stderr bytes.Buffer
	err = run(t.Context(), []string{"serve", "-config", path}, &stderr, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("serve with a busy RTCP port: %v, want address in use\n%s", err, &stderr)
	}
	for _, a := range []struct{ network, addr string }{{"tcp", rtspAddr}, {"tcp", tlsAddr}, {"udp", rtp}} {
		if err := bindAgain(a.network, a.addr); err != nil {
			t.Errorf("%s %s still bound after the failed serve: %v", a.network, a.addr, err)
		}
	}
	st, err := storage.Open(storage.Config{Dir: filepath.Join(dir, "data"), IndexTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("index still held after the failed serve: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestServeBusyPprofTouchesNothing: with the -pprof address taken, serve fails before it
// creates the data directory or binds the RTSP address, as it did before the lifecycle.
func TestServeBusyPprofTouchesNothing(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	path := writeConfig(t, fmt.Sprintf("data_dir: %s\nrtsp: {address: %q, udp_rtp_address: \"\"}\n", data, freeTCPAddr(t)))
	var stderr bytes.Buffer
	err = run(t.Context(), []string{"serve", "-config", path, "-pprof", busy.Addr().String()}, &stderr, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("serve with a busy -pprof address: %v, want address in use\n%s", err, &stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data directory touched by a serve that failed on -pprof: stat = %v", err)
	}
}

// TestServeStartOrder: pprof starts first, and the RTSP server accepts clients only after the
// pulled cameras and the SIGHUP reload are up, so a publisher cannot start recording inside a
// serve that then fails to start. Its sockets are bound before the pulls start, as before. The
// file's udp_teardown_linger 0s reaches the server as a linger it accepts.
func TestServeStartOrder(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(writeConfig(t, fmt.Sprintf("data_dir: %s\nhttp: {address: \"127.0.0.1:0\"}\nrtsp: {address: %q, udp_rtp_address: \"\", udp_teardown_linger: 0s}\n",
		filepath.Join(t.TempDir(), "data"), freeTCPAddr(t))))
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLifecycle(t.Context())
	defer func() {
		if err := l.stop(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := startParts(l, cfg, serveOptions{pprofAddr: "127.0.0.1:0"}, l.log); err != nil {
		t.Fatal(err)
	}
	got := l.partNames()
	want := []string{"pprof", "auth", "storage", "retention", "recorder", "rtsp sockets", "pull", "http sockets", "reload", "rtsp", "http"}
	if !slices.Equal(got, want) {
		t.Errorf("parts started %v, want %v", got, want)
	}
}

// bindAgain binds addr and releases it at once.
func bindAgain(network, addr string) error {
	var c io.Closer
	var err error
	if network == "udp" {
		c, err = net.ListenPacket(network, addr)
	} else {
		c, err = net.Listen(network, addr)
	}
	if err != nil {
		return err
	}
	return c.Close()
}

// freeTCPAddr returns a loopback address whose port was free a moment ago.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// freeUDPPair returns loopback addresses of an even UDP port and the next one, both free a
// moment ago (rtsp.udp_rtp_address and udp_rtcp_address must be such a pair).
func freeUDPPair(t *testing.T) (rtp, rtcp string) {
	t.Helper()
	for range 100 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	}
	t.Fatal("no free even/odd UDP port pair on loopback")
	return "", ""
}

// TestCloseRecorderTimeout: a recorder that does not close within the shutdown timeout makes
// the stop fail (the serve exits non-zero) instead of passing for a clean close.
func TestCloseRecorderTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		stuck := func() error { <-release; return nil }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := closeRecorder(stuck, time.Second, log); err == nil || !strings.Contains(err.Error(), "did not close") {
			t.Errorf("closeRecorder of a stuck recorder = %v, want a timeout error", err)
		}
		errSeal := errors.New("seal failed")
		if err := closeRecorder(func() error { return errSeal }, time.Second, log); !errors.Is(err, errSeal) {
			t.Errorf("closeRecorder = %v, want the recorder's error", err)
		}
	})
}
