package rtsp

// Stats are the server's counters since NewServer, and gauges of what is
// open now.
type Stats struct {
	// SlowClients counts viewers dropped because they did not read
	// (ErrSlowClient, SEC-07).
	SlowClients uint64
	// UDPDrops counts received datagrams dropped: unknown source, empty or
	// too large.
	UDPDrops uint64
	// UDPSendErrors counts play datagrams the kernel refused to send.
	UDPSendErrors uint64
	// TunnelsRefused counts RTSP-over-HTTP tunnel requests refused (bad
	// head or cookie, bad credentials, a cookie in use or of another
	// client, a full table, a POST without its GET) and tunnels ended for
	// breaking the protocol (base64 that does not decode, data on the GET's
	// connection, no POST in time).
	TunnelsRefused uint64
	// Redirects counts requests answered 301 or 302 (RedirectError).
	Redirects uint64
	// RedirectRequests counts REDIRECT requests sent to clients
	// (Redirector).
	RedirectRequests uint64
	// UnexpectedResponses counts responses from clients that answer no
	// request the server sent: ignored (RTSP-MSG-12).
	UnexpectedResponses uint64
	// Connections is the number of RTSP connections open now, RTSPS ones
	// included.
	Connections int
	// TLSConnections is the number of RTSPS connections open now.
	TLSConnections int
	// SessionsRecord is the number of publisher sessions now (ModeRecord).
	SessionsRecord int
	// SessionsPlay is the number of viewer sessions now (ModePlay).
	SessionsPlay int
}

// Stats returns the current counters. It is safe for concurrent use.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{SlowClients: s.slowClients, TunnelsRefused: s.tunnelRefusals, Connections: len(s.conns), TLSConnections: s.tlsConns,
		Redirects: s.redirected.answers, RedirectRequests: s.redirected.requests, UnexpectedResponses: s.redirected.unexpected}
	for _, ss := range s.sessions {
		if ss.pres.play != nil {
			st.SessionsPlay++
		} else {
			st.SessionsRecord++
		}
	}
	s.mu.Unlock()
	if s.udp != nil {
		for _, k := range []*udpSocket{s.udp.rtp, s.udp.rtcp} {
			st.UDPDrops += k.drops.Load()
			st.UDPSendErrors += k.sendErrors.Load()
		}
	}
	return st
}

func (s *Server) countSlowClient() {
	s.mu.Lock()
	s.slowClients++
	s.mu.Unlock()
}

// redirectCounts are the Stats of redirects, guarded by Server.mu.
type redirectCounts struct {
	answers    uint64 // 301/302 answers
	requests   uint64 // REDIRECT requests sent
	unexpected uint64 // client responses that answer no request
}

// countRedirect counts a 3xx answer, or a REDIRECT request when request.
func (s *Server) countRedirect(request bool) {
	s.mu.Lock()
	if request {
		s.redirected.requests++
	} else {
		s.redirected.answers++
	}
	s.mu.Unlock()
}

func (s *Server) countUnexpectedResponse() {
	s.mu.Lock()
	s.redirected.unexpected++
	s.mu.Unlock()
}
