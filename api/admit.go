package api

import (
	"context"
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
// most perAddr from one IP address, as the RTSP server does (SEC-03). At a limit, a connection
// waiting for a request (new, idle between requests, or sending its header: net/http reports a
// connection active only once the header is read) is closed to make room: from that address at
// its limit, else from the address holding the most slots; when every candidate has a request
// in progress (an export stream, say), the new connection is closed at once. A client can then
// hold only what it keeps busy, read_header_timeout bounds one that sends a header slowly, and
// a flood from one address cannot lock others out. HTTP/2 is not served (no NextProtos): its
// connections would never be reported active.
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
	limit := ""
	switch {
	case a.perIP[ip] >= a.perAddr:
		victim, limit = a.victimLocked(ip), "per_address"
	case len(a.conns) >= a.max:
		victim, limit = a.victimLocked(netip.Addr{}), "global"
	}
	if limit != "" && victim == nil {
		line := a.refusedLocked(ip, limit)
		a.mu.Unlock()
		if line != nil {
			a.log.Warn("http connection refused: every slot it could take has a request in progress", line...)
		}
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

// victimLocked returns the waiting connection (no request in progress) to close for a new
// one: from ip when ip is valid (the per-address limit); otherwise from the address that holds
// the most slots, so that a flood spread over many connections of a few addresses does not
// push out other clients' fresh connections. The one that has waited longest goes first; nil
// when none waits. Caller holds a.mu.
func (a *admission) victimLocked(ip netip.Addr) net.Conn {
	var best net.Conn
	var bestEntry *admitted
	for c, e := range a.conns {
		if !e.waiting || ip.IsValid() && e.ip != ip {
			continue
		}
		if best == nil || a.perIP[e.ip] > a.perIP[bestEntry.ip] ||
			a.perIP[e.ip] == a.perIP[bestEntry.ip] && e.since.Before(bestEntry.since) {
			best, bestEntry = c, e
		}
	}
	return best
}

// refusedLocked counts a refused connection and returns the attributes of a log line, at
// most once per refusedLogInterval (nil otherwise): how many were refused since the last
// line, which limit, and the last peer. Caller holds a.mu.
func (a *admission) refusedLocked(ip netip.Addr, limit string) []any {
	a.refused++
	now := a.now()
	if !a.logged.IsZero() && now.Sub(a.logged) < refusedLogInterval {
		return nil
	}
	line := []any{"refused", a.refused, "limit", limit, "last_peer", ip.String(), "open", len(a.conns),
		"max_connections", a.max, "max_connections_per_address", a.perAddr}
	a.refused, a.logged = 0, now
	return line
}

// claim marks the connection of a request that is about to be handled as busy, and says
// whether it still holds its slot: a connection chosen to make room after its request was read
// but before net/http reported it active has lost it, and its request must not run.
func (a *admission) claim(c net.Conn) bool {
	if c == nil {
		return true // not from a listener of ours (httptest)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.conns[c]
	if e == nil {
		return false
	}
	e.waiting = false
	return true
}

// connKey is the request context key of the connection admission knows (ConnContext).
type connKey struct{}

// connContext is the http.Server's ConnContext hook: it keeps the accepted connection in the
// context of its requests, for claim.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, rawConn(c))
}

// connOf returns the connection of a request, nil when it did not come through connContext.
func connOf(r *http.Request) net.Conn {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	return c
}

// rawConn returns the connection a listener of ours accepted: under TLS, the one it wraps.
func rawConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

// connState is the http.Server's ConnState hook: it tracks which connections wait for a
// request and frees the slot of a closed one.
func (a *admission) connState(c net.Conn, st http.ConnState) {
	c = rawConn(c)
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
