package rtsp_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// Tests of issue 9: what a hostile or broken peer can do to the server.

// dialFrom connects to srv from the loopback address ip (any of
// 127.0.0.0/8), so that one test can be several hosts.
func dialFrom(t *testing.T, srv *rtsp.Server, ip string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return newClient(t, nc, "rtsp://"+srv.Addr().String())
}

// recordTCP announces path and records it over TCP on c.
func (c *client) recordTCP(path string) string {
	c.t.Helper()
	c.announce(path)
	id := c.setupTCP(path, "record")
	rtsptest.ExpectStatus(c.t, c.Do("RECORD", c.URL+"/"+path, []string{"Session: " + id}, ""), 200)
	return id
}

// TestMaxConnections: at the limit a new connection takes the slot of the
// connection idle longest without a session; when every connection has a
// session it is closed on accept (SEC-03, issue 9 row 12).
func TestMaxConnections(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), MaxConnections: 3})
	rec := dial(t, srv)
	rec.recordTCP("cam1")
	older, newer := dial(t, srv), dial(t, srv)
	rtsptest.ExpectStatus(t, older.Do("OPTIONS", "*", nil, ""), 200)
	rtsptest.ExpectStatus(t, newer.Do("OPTIONS", "*", nil, ""), 200)
	push := dial(t, srv)
	older.ExpectClosed()
	push.recordTCP("cam2")
	rtsptest.ExpectStatus(t, newer.Do("OPTIONS", "*", nil, ""), 200)
	rtsptest.ExpectStatus(t, rec.Do("OPTIONS", "*", nil, ""), 200)
	third := dial(t, srv)
	newer.ExpectClosed()
	third.recordTCP("cam3")
	dial(t, srv).ExpectClosed() // every slot has a session
	rtsptest.ExpectStatus(t, rec.Do("OPTIONS", "*", nil, ""), 200)
}

// TestIdleFloodDoesNotLockOut covers issue 9 rows 12 and 15: a flood of
// idle connections, from one address or many, never keeps a publisher
// out, and one address holds at most MaxConnectionsPerAddress slots.
func TestIdleFloodDoesNotLockOut(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, MaxConnections: 40, MaxConnectionsPerAddress: 8})
	// Eight publishers from one host fill its share; a ninth is refused.
	var pubs []*client
	for i := range 8 {
		c := dialFrom(t, srv, "127.0.0.9")
		c.recordTCP("cam" + strconv.Itoa(i))
		pubs = append(pubs, c)
	}
	dialFrom(t, srv, "127.0.0.9").ExpectClosed()
	// 200 idle connections from one attacker host and 200 from others.
	for i := range 400 {
		ip := "127.0.0.2"
		if i%2 == 1 {
			ip = "127.0.1." + strconv.Itoa(1+i%200)
		}
		dialFrom(t, srv, ip)
	}
	// An honest publisher still gets in, from a new host or the attacker's.
	dialFrom(t, srv, "127.0.0.3").recordTCP("honest")
	dialFrom(t, srv, "127.0.0.2").recordTCP("honest2")
	for _, c := range pubs {
		rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
	}
	// A host at its share: its ninth connection takes the slot of its
	// idlest one, and the others stay.
	var idle []*client
	for range 9 {
		idle = append(idle, dialFrom(t, srv, "127.0.0.5"))
	}
	idle[0].ExpectClosed()
	for _, c := range idle[1:] {
		rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
	}
}

// TestRefusalsLogOnce covers issue 9 row 12: refused connections are
// logged once a minute with a count, not once each.
func TestRefusalsLogOnce(t *testing.T) {
	logger, logs := captureLogger()
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), MaxConnections: 1, Logger: logger})
	dial(t, srv).recordTCP("cam1")
	for range 50 {
		dial(t, srv).ExpectClosed()
	}
	if n := strings.Count(logs.String(), "rtsp connection refused"); n != 1 {
		t.Fatalf("%d refusal log lines, want 1:\n%s", n, logs.String())
	}
}
