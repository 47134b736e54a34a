package rtsp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// udpPortTries bounds the attempts to find an even/odd port pair.
const udpPortTries = 32

// clientUDP is the RTP/RTCP socket pair of one UDP stream. Packets are
// accepted only from the server's IP (RTSP-TR-09 from the client side).
type clientUDP struct {
	rtp, rtcp *net.UDPConn
	server    netip.Addr     // the RTSP peer's IP
	rtcpDst   netip.AddrPort // server RTCP port, the receiver report target
}

// listenClientUDP opens an even RTP port and the next odd RTCP port on
// local [3550 §11].
func listenClientUDP(local netip.Addr) (*clientUDP, error) {
	for range udpPortTries {
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
		if err != nil {
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		port := rtp.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65535 {
			_ = rtp.Close()
			continue
		}
		rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, uint16(port+1))))
		if err != nil {
			_ = rtp.Close()
			continue
		}
		return &clientUDP{rtp: rtp, rtcp: rtcp}, nil
	}
	return nil, errors.New("listen udp: no free even/odd port pair")
}

func (u *clientUDP) rtpPort() int { return u.rtp.LocalAddr().(*net.UDPAddr).Port }

func (u *clientUDP) setServer(peer net.Addr, ports PortPair) error {
	ta, ok := peer.(*net.TCPAddr)
	if !ok || ports.RTCP <= 0 || ports.RTCP > 65535 {
		return errors.New("bad server_port")
	}
	u.server = ta.AddrPort().Addr().Unmap()
	u.rtcpDst = netip.AddrPortFrom(u.server, uint16(ports.RTCP))
	return nil
}

func (u *clientUDP) close() {
	_ = u.rtp.Close()
	_ = u.rtcp.Close()
}

// readUDP delivers the datagrams of one socket of stream i until it is
// closed or its deadline passes.
func (c *Client) readUDP(i int, conn *net.UDPConn, rtcp bool) error {
	buf := make([]byte, maxClientFrame)
	from := c.streams[i].udp.server
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("read udp stream %d: %w", i, err)
		}
		if addr.Addr().Unmap() != from || n == 0 {
			continue
		}
		if rtcp || isRTCP(buf[:n]) {
			c.onRTCP(i, buf[:n])
		} else {
			c.onRTP(i, buf[:n])
		}
	}
}
