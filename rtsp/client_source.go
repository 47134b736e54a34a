package rtsp

import (
	"net"
	"time"
)

// clientSource is the connection as the client's read buffer reads it: it
// notes when each read returned, the arrival time of the packets that read
// brought (RTCP-03 jitter, ClientStats.LastPacket). One time per read
// rather than per packet: packets that arrived together count as such.
// Only the goroutine reading the client uses it.
type clientSource struct {
	nc net.Conn
	at time.Time // when the last read returned
}

// Read implements io.Reader for the client's bufio.Reader.
func (s *clientSource) Read(p []byte) (int, error) {
	n, err := s.nc.Read(p)
	s.at = time.Now()
	return n, err
}
