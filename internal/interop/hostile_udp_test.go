//go:build interop

package interop

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// spray sends forged RTP from several ports of the publisher's host (the
// loopback) to the server's RTP and RTCP ports until ctx ends: what a third
// party on a camera's host or network segment can do. Bounded to 20000
// datagrams.
func spray(ctx context.Context, t *testing.T, udpPort int) int {
	var socks []*net.UDPConn
	for range 4 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Error(err)
			return 0
		}
		defer c.Close()
		socks = append(socks, c)
	}
	pkt := make([]byte, 200)
	pkt[0], pkt[1] = 0x80, 96 // RTP v2, the payload type ffmpeg announces for H.264
	pkt[12] = 0x41            // a non-IDR slice NAL header
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for i := 0; sent < 20000; i++ {
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
		c := socks[i%len(socks)]
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i)*3600)
		binary.BigEndian.PutUint32(pkt[8:], rand.Uint32())
		for _, port := range []int{udpPort, udpPort + 1} {
			if _, err := c.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err == nil {
				sent++
			}
		}
	}
	return sent
}

// TestUDPSprayDoesNotStealPush covers issue 9 row 3: while ffmpeg pushes
// over UDP, a third party on the same host sprays the server's UDP ports
// from its own ports with forged RTP. The recording holds every frame of the
// real publisher, and the forged datagrams are dropped and counted, with a
// bounded number of log lines.
func TestUDPSprayDoesNotStealPush(t *testing.T) {
	var sent int
	s := pushDuring(t, "sprayed", "udp", func(ctx context.Context, s *server) { sent = spray(ctx, t, s.udpPort) })
	t.Logf("sprayed %d forged datagrams during the push", sent)
	if sent < 1000 {
		t.Fatalf("only %d forged datagrams sent", sent)
	}
	if n := strings.Count(s.logs.String(), "datagram dropped"); n > 4 {
		t.Errorf("%d drop log lines for %d forged datagrams, want a few", n, sent)
	}
}
