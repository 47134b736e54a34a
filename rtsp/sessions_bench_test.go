package rtsp

import (
	"strconv"
	"testing"
)

// BenchmarkSessions lists 200 publishers and 200 viewers: what an API call
// or a metrics scrape costs under 200 pushed cameras.
func BenchmarkSessions(b *testing.B) {
	cfg := Config{Handler: nopHandler{}}.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger, sessions: make(map[string]*session)}
	c := newConn(srv, discardConn{}, ConnOptions{})
	defer c.cancel()
	for i := range 200 {
		path := "cam" + strconv.Itoa(i)
		srv.addSession(newSession(c, &announcement{pub: nopPub{}, path: path, controls: []string{"a"}}))
		srv.addSession(newSession(c, &announcement{play: nopPres{}, path: "archive/" + path, controls: []string{"trackID=0"}}))
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(srv.Sessions()) != 400 {
			b.Fatal("sessions lost")
		}
		_ = srv.Stats()
	}
}
