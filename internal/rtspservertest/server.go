// Package rtspservertest runs a real rtsp.Server on loopback for tests: those of package
// rtsp itself and of the packages built on it (playback, internal/bench). It is apart from
// internal/rtsptest because that package's scripted peers are built on the wire packages
// only and must not import rtsp, whose own tests import them. It is imported by tests only.
package rtspservertest

import (
	"context"
	"testing"

	"github.com/camvault/camvault/rtsp"
)

// loopback is a loopback address on a port the kernel chooses.
const loopback = "127.0.0.1:0"

// Start runs an rtsp.Server with cfg until the test ends, as Run does, and stops it then.
func Start(t testing.TB, cfg rtsp.Config) *rtsp.Server {
	t.Helper()
	srv, stop := Run(t, cfg)
	t.Cleanup(stop)
	return srv
}

// Run runs an rtsp.Server with cfg and returns it with stop, which cancels Run, waits for
// it to return and fails the test if it returned an error; for a test that stops the
// server itself, e.g. inside a synctest bubble. Empty addresses become loopback ports the
// kernel chooses: the RTSP address unless cfg.Listener is set, and the UDP pair unless
// cfg.DisableUDP.
func Run(t testing.TB, cfg rtsp.Config) (srv *rtsp.Server, stop func()) {
	t.Helper()
	if cfg.Address == "" && cfg.Listener == nil {
		cfg.Address = loopback
	}
	if !cfg.DisableUDP {
		if cfg.UDPRTPAddress == "" {
			cfg.UDPRTPAddress = loopback
		}
		if cfg.UDPRTCPAddress == "" {
			cfg.UDPRTCPAddress = loopback
		}
	}
	srv, err := rtsp.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select { // serving, so that ServeConn works at once
	case <-srv.Serving():
	case err := <-done:
		cancel()
		t.Fatalf("rtsp server Run: %v", err)
	}
	return srv, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("rtsp server Run: %v", err)
		}
	}
}
