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
	st := Stats{SlowClients: s.slowClients, TunnelsRefused: s.tunnelRefusals, Connections: len(s.conns), TLSConnections: s.tlsConns}
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
