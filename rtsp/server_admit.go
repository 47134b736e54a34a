package rtsp

import (
	"errors"
	"net/netip"
	"time"
)

// Admission errors, logged when a connection is refused on accept.
var (
	errTooManyConns       = errors.New("too many connections")
	errTooManyFromAddress = errors.New("too many connections from address")
)

// connEntry is the server's view of one admitted connection, guarded by
// Server.mu.
type connEntry struct {
	ip          netip.Addr
	tls         bool      // RTSPS
	live        bool      // the connection has a live session
	lastRequest time.Time // accept time, then the end of its latest request
}

// admit reserves a connection slot for a peer at ip (SEC-03). At the
// per-address or the global limit, the connection that has been idle
// longest without a session gives up its slot and is returned to be
// closed; if there is none, admit fails.
func (s *Server) admit(ip netip.Addr) (victim *conn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perAddr[ip] >= s.cfg.MaxConnectionsPerAddress:
		if victim = s.idlest(ip); victim == nil {
			return nil, errTooManyFromAddress
		}
	case s.nconns >= s.cfg.MaxConnections:
		if victim = s.idlest(netip.Addr{}); victim == nil {
			return nil, errTooManyConns
		}
	}
	if victim != nil {
		s.untrack(victim)
	}
	s.nconns++
	s.perAddr[ip]++
	return victim, nil
}

// idlest returns the connection without a live session whose latest
// request is oldest, from ip only unless ip is the zero Addr. Caller holds
// s.mu.
func (s *Server) idlest(ip netip.Addr) *conn {
	var best *conn
	var at time.Time
	for c, e := range s.conns {
		if e.live || ip.IsValid() && e.ip != ip {
			continue
		}
		if best == nil || e.lastRequest.Before(at) {
			best, at = c, e.lastRequest
		}
	}
	return best
}

// track registers an admitted connection.
func (s *Server) track(c *conn, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = &connEntry{ip: c.peer.Addr(), tls: c.secure, lastRequest: now}
	if c.secure {
		s.tlsConns++
	}
}

// untrack frees the slot of c once. Caller holds s.mu.
func (s *Server) untrack(c *conn) {
	e, ok := s.conns[c]
	if !ok {
		return
	}
	delete(s.conns, c)
	s.nconns--
	if e.tls {
		s.tlsConns--
	}
	if s.perAddr[e.ip]--; s.perAddr[e.ip] <= 0 {
		delete(s.perAddr, e.ip)
	}
}

// release frees the slot of a connection that ended, unless it was
// already given to another.
func (s *Server) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.untrack(c)
}

// noteRequest records that c finished a request and whether it has a
// live session, for the choice of idlest.
func (s *Server) noteRequest(c *conn, live bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.conns[c]; ok {
		e.live, e.lastRequest = live, now
	}
}
