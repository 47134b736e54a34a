package rtsp

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Values of SessionInfo.Mode.
const (
	// ModeRecord is a publisher's session (ANNOUNCE, SETUP mode=record).
	ModeRecord = "record"
	// ModePlay is a viewer's session (DESCRIBE, SETUP, PLAY).
	ModePlay = "play"
)

// Values of SessionInfo.Transport.
const (
	// TransportTCP is RTP interleaved on the RTSP connection.
	TransportTCP = "tcp"
	// TransportUDP is RTP on the server's shared UDP pair.
	TransportUDP = "udp"
)

// SessionInfo is a snapshot of one RTSP session.
type SessionInfo struct {
	// ID is an opaque id usable with Kick: the session's number in the
	// server's logs (key "session"), in decimal. It is not the RTSP Session
	// header value, which is a bearer secret of the session and is never
	// shown, nor derived from it.
	ID string
	// Mode is ModeRecord (publisher) or ModePlay (viewer).
	Mode string
	// Path is the request path without query, as the Handler got it:
	// "lobby", "archive/lobby".
	Path string
	// Peer is the address of the RTSP connection that owns the session.
	Peer netip.AddrPort
	// User is the authenticated user the session is for (the sender of the
	// ANNOUNCE or DESCRIBE the Handler admitted, else of the SETUP that
	// created the session), "" when anonymous.
	User string
	// Transport is the lower transport of the media: TransportTCP or
	// TransportUDP.
	Transport string
	// TLS reports an RTSPS connection (media interleaved in TLS).
	TLS bool
	// Started is when the SETUP that created the session was handled.
	Started time.Time
	// Playing reports a session in PLAY or RECORD; false while it is only
	// set up or paused.
	Playing bool
	// BytesIn counts the RTP and RTCP bytes received from the peer (packet
	// bytes: no interleaved header, no UDP header).
	BytesIn uint64
	// BytesOut counts the RTP and RTCP bytes sent to the peer, counted when
	// queued on the connection (TCP) or accepted by the kernel (UDP).
	BytesOut uint64
}

// Sessions returns a snapshot of every live session, sorted by Started.
// It is safe for concurrent use at any time, and never waits for a
// publication that holds its publisher back.
func (s *Server) Sessions() []SessionInfo {
	list := s.sessionList()
	slices.SortFunc(list, func(a, b *session) int {
		return cmp.Or(a.started.Compare(b.started), cmp.Compare(a.serial, b.serial))
	})
	out := make([]SessionInfo, len(list))
	for i, ss := range list {
		out[i] = ss.info()
	}
	return out
}

// info returns the snapshot of ss; it reads immutable fields and atomics
// only.
func (ss *session) info() SessionInfo {
	return SessionInfo{
		ID:        strconv.FormatUint(ss.serial, 10),
		Mode:      ss.mode(),
		Path:      ss.pres.path,
		Peer:      ss.owner.peer,
		User:      ss.user,
		Transport: ss.transport,
		TLS:       ss.owner.secure,
		Started:   ss.started,
		Playing:   ss.active.Load(),
		BytesIn:   ss.bytesIn.Load(),
		BytesOut:  ss.bytesOut.Load(),
	}
}

// mode returns ModePlay or ModeRecord.
func (ss *session) mode() string {
	if ss.pres.play != nil {
		return ModePlay
	}
	return ModeRecord
}

// Kick ends the session id (SessionInfo.ID) as a TEARDOWN would, with
// reason ErrKicked: a publisher's Publication is closed, which ends its
// recording, a viewer's Presentation is closed, which ends its playback.
// The session's connection is closed too unless it carries another live
// session, so that the peer sees the end at once (it reads EOF); a
// session that a SETUP adds to that connection while Kick runs ends with
// it. Kick waits for a packet being delivered to the publication, and
// returns once the Publication or Presentation is closed (the connection
// closes on its own goroutine). It returns ErrSessionNotFound when id
// names no live session. It is safe for concurrent use.
func (s *Server) Kick(id string) error {
	ss := s.sessionByID(id)
	if ss == nil || !ss.close(ErrKicked) {
		return ErrSessionNotFound
	}
	ss.log.Info("session kicked", "mode", ss.mode())
	if !s.carriesSession(ss.owner) {
		ss.owner.cancel()
	}
	return nil
}

// sessionByID returns the live session whose SessionInfo.ID is id, or nil.
func (s *Server) sessionByID(id string) *session {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil
	}
	return s.findSession(func(ss *session) bool { return ss.serial == n })
}

// carriesSession reports whether a session in the table is owned by c.
func (s *Server) carriesSession(c *conn) bool {
	return s.findSession(func(ss *session) bool { return ss.owner == c }) != nil
}

// findSession returns a session of the table that match accepts, or nil.
// match runs under s.mu: it may read only immutable fields.
func (s *Server) findSession(match func(*session) bool) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if match(ss) {
			return ss
		}
	}
	return nil
}

// armPlayStart makes the first RTP packet sent after a PLAY read at
// readAt report its latency to Config.OnPlayStart, if set.
func (ss *session) armPlayStart(readAt time.Time) {
	if ss.srv.cfg.OnPlayStart != nil {
		ss.playAt.Store(&readAt)
	}
}

// sent counts n bytes handed to the peer's socket and reports the first
// RTP packet of a PLAY's answer (armPlayStart): once per PLAY, whichever
// sender comes first. The packet path pays an atomic add and load.
func (ss *session) sent(n int, rtcp bool) {
	ss.bytesOut.Add(uint64(n))
	if rtcp {
		return
	}
	at := ss.playAt.Load()
	if at == nil || !ss.playAt.CompareAndSwap(at, nil) {
		return
	}
	ss.srv.cfg.OnPlayStart(ss.pres.path, time.Since(*at))
}
