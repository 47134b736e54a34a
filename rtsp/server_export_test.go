package rtsp

import "time"

// SessionRTCP returns how many RTCP packets session id has received, and whether the
// session exists: a black-box test waits on it to know that the server has a packet it
// sent over UDP.
func SessionRTCP(s *Server, id string) (uint64, bool) {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil {
		return 0, false
	}
	return ss.rtcpCount.Load(), true
}

// ReapInterval is how often s checks its sessions for expiry.
func ReapInterval(s *Server) time.Duration { return s.reapInterval() }
