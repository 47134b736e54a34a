package api

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// refusedLogInterval is the least time between two log lines about refused connections.
const refusedLogInterval = time.Minute

// admission bounds the open HTTP connections of both listeners together: at most max, and at
// most perAddr from one IP address, as the RTSP server does (SEC-03). At a limit, the
// connection that has waited longest for a request (new, or idle between requests) from that
// address, or from any address at the global limit, is closed to make room; when every one is
// in the middle of a request, the new connection is closed at once. A client can then hold
// only what it keeps busy, read_header_timeout bounds one that sends a request slowly, and a
// flood from one address cannot lock others out.
type admission struct {
	max, perAddr int
	now          func() time.Time
	log          *slog.Logger

	mu      sync.Mutex
	conns   map[net.Conn]*admitted // by the accepted connection (under TLS's)
	perIP   map[netip.Addr]int
	refused int       // since the last log line
	logged  time.Time // of the last log line
}

// admitted is one open connection.
type admitted struct {
	ip      netip.Addr
	waiting bool      // new or idle: no request in progress
	since   time.Time // when it started waiting
}

func newAdmission(max, perAddr int, now func() time.Time, log *slog.Logger) *admission {
	return &admission{max: max, perAddr: perAddr, now: now, log: log,
		conns: make(map[net.Conn]*admitted), perIP: make(map[netip.Addr]int)}
}

// listener returns l with every accepted connection admitted first.
func (a *admission) listener(l net.Listener) net.Listener { return &admitListener{l, a} }

type admitListener struct {
	net.Listener
	a *admission
}

// Accept returns the next connection that admission lets in; the others are closed here.
func (l *admitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.a.admit(c) {
			return c, nil
		}
		_ = c.Close() // refused; admit counted it
	}
}

// admit takes a slot for c, closing a waiting connection when one must make room, and says
// whether c may be served.
func (a *admission) admit(c net.Conn) bool {
	ip := peerIP(c)
	a.mu.Lock()
	var victim net.Conn
	full := false
	switch {
	case a.perIP[ip] >= a.perAddr:
		victim, full = a.longestWaiting(ip, true), true
	case len(a.conns) >= a.max:
		victim, full = a.longestWaiting(ip, false), true
	}
	if full && victim == nil {
		a.refusedLocked(ip)
		a.mu.Unlock()
		return false
	}
	if victim != nil {
		a.releaseLocked(victim)
	}
	a.conns[c] = &admitted{ip: ip, waiting: true, since: a.now()}
	a.perIP[ip]++
	a.mu.Unlock()
	if victim != nil {
		_ = victim.Close() // the server's goroutine of it ends on the error
	}
	return true
}

// longestWaiting returns the connection that has waited longest for a request, from ip only
// when sameIP; nil when none waits. Caller holds a.mu.
func (a *admission) longestWaiting(ip netip.Addr, sameIP bool) net.Conn {
	var best net.Conn
	var at time.Time
	for c, e := range a.conns {
		if !e.waiting || sameIP && e.ip != ip {
			continue
		}
		if best == nil || e.since.Before(at) {
			best, at = c, e.since
		}
	}
	return best
}

// refusedLocked counts a refused connection and logs, at most once per refusedLogInterval,
// how many were refused. Caller holds a.mu.
func (a *admission) refusedLocked(ip netip.Addr) {
	a.refused++
	now := a.now()
	if !a.logged.IsZero() && now.Sub(a.logged) < refusedLogInterval {
		return
	}
	a.log.Warn("http connections refused: every slot has a request in progress", "refused", a.refused,
		"last_peer", ip.String(), "open", len(a.conns), "max_connections", a.max,
		"max_connections_per_address", a.perAddr)
	a.refused, a.logged = 0, now
}

// connState is the http.Server's ConnState hook: it tracks which connections wait for a
// request and frees the slot of a closed one.
func (a *admission) connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.conns[c]
	if e == nil {
		return // a victim, already released
	}
	switch st {
	case http.StateActive:
		e.waiting = false
	case http.StateIdle:
		e.waiting, e.since = true, a.now()
	case http.StateClosed, http.StateHijacked:
		a.releaseLocked(c)
	}
}

// releaseLocked frees c's slot. Caller holds a.mu.
func (a *admission) releaseLocked(c net.Conn) {
	e := a.conns[c]
	if e == nil {
		return
	}
	delete(a.conns, c)
	if a.perIP[e.ip]--; a.perIP[e.ip] <= 0 {
		delete(a.perIP, e.ip)
	}
}

// counts returns the open connections and how many of them wait for a request.
func (a *admission) counts() (open, waiting int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.conns {
		if e.waiting {
			waiting++
		}
	}
	return len(a.conns), waiting
}

// peerIP returns the IP address of c's peer, as peerAddr does for a request.
func peerIP(c net.Conn) netip.Addr { return addrOf(c.RemoteAddr().String()) }
