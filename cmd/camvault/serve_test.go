package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/testcert"
	"github.com/camvault/camvault/storage"
)

// TestServeFailedStartReleasesEverything: a serve whose last part fails to start (the -pprof
// address is taken) after the RTSP, RTSPS and UDP sockets are bound and the store is open
// releases all of them: the same ports bind again and the index opens again.
func TestServeFailedStartReleasesEverything(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	cert, key := testcert.Write(t, dir, "localhost")
	rtspAddr, tlsAddr := freeTCPAddr(t), freeTCPAddr(t)
	rtp, rtcp := freeUDPPair(t)
	path := writeConfig(t, fmt.Sprintf("data_dir: %s\nrtsp: {address: %q, udp_rtp_address: %q, udp_rtcp_address: %q}\n"+
		"tls: {address: %q, cert: %s, key: %s}\n", filepath.Join(dir, "data"), rtspAddr, rtp, rtcp, tlsAddr, cert, key))

	var stderr bytes.Buffer
	err = run(t.Context(), []string{"serve", "-config", path, "-pprof", busy.Addr().String()}, &stderr, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("serve with a busy -pprof address: %v, want address in use\n%s", err, &stderr)
	}
	for _, a := range []struct{ network, addr string }{{"tcp", rtspAddr}, {"tcp", tlsAddr}, {"udp", rtp}, {"udp", rtcp}} {
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
