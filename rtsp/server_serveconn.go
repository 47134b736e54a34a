package rtsp

import (
	"net"
)

// ConnOptions describes a connection handed to Server.ServeConn.
type ConnOptions struct {
	// Prefix holds bytes that were read from the connection before it was
	// handed over; they are read first. An HTTP server that parsed the head
	// of a tunnel GET or POST passes the head, written again, and what it
	// had buffered after it.
	Prefix []byte
	// TLS reports a connection secured by TLS that is not a *tls.Conn (a
	// WebSocket over HTTPS): as on RTSPS, Basic credentials are accepted
	// and UDP transport is refused. A *tls.Conn is recognised by itself.
	TLS bool
	// WebSocket marks the byte stream of a WebSocket (subprotocol
	// rtsp.onvif.org): it carries RTSP messages and interleaved frames
	// only, never an HTTP tunnel request, and media is interleaved in it.
	WebSocket bool
}

// ServeConn serves nc, a connection accepted elsewhere, as if the RTSP
// listener had accepted it: the same admission (MaxConnections,
// MaxConnectionsPerAddress), authentication, limits, timeouts and
// sessions; it may begin with a tunnel GET or POST (RTSP-HT-01) unless
// o.WebSocket. It returns at once: the server owns nc from then on and
// closes it when the connection ends, at shutdown, or at once with the
// error when the limits refuse it or the server does not run
// (ErrServerClosed). Safe for concurrent use while Run runs.
func (s *Server) ServeConn(nc net.Conn, o ConnOptions) error {
	s.mu.Lock()
	ctx, serving := s.runCtx, s.serving
	if serving {
		s.wg.Add(1) // before Run waits: accept then adds the connection's goroutine
	}
	s.mu.Unlock()
	if !serving {
		_ = nc.Close() // not served: the caller learns why from the error
		return ErrServerClosed
	}
	defer s.wg.Done()
	return s.accept(ctx, nc, o)
}
