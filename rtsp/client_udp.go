package rtsp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// udpPortTries bounds the attempts to find an even/odd port pair.
const udpPortTries = 32

// clientUDP is the RTP/RTCP socket pair of one UDP stream. Packets are
// accepted only from the server's IP, or the source= of its Transport reply
// (RTSP-TR-09 from the client side).
type clientUDP struct {
	rtp, rtcp *net.UDPConn
	server    netip.Addr     // the RTSP peer's IP
	source    netip.Addr     // the Transport source=, if another IP
	rtcpDst   netip.AddrPort // server RTCP port, the receiver report target; invalid without server_port
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

// setServer takes the server's addresses from its Transport reply. A
// camera that sends media from another IP than its RTSP address names it
// in source=; one that gives no server_port gets no receiver reports.
func (u *clientUDP) setServer(peer net.Addr, tr headers.Transport, log *slog.Logger) error {
	ta, ok := peer.(*net.TCPAddr)
	if !ok {
		return errors.New("udp transport needs a tcp connection")
	}
	u.server = ta.AddrPort().Addr().Unmap()
	dst := u.server
	if src, err := netip.ParseAddr(tr.Source); err == nil && src.Unmap() != u.server {
		u.source, dst = src.Unmap(), src.Unmap()
	}
	switch {
	case tr.ServerPort == nil:
		log.Debug("camera sent no server_port: no receiver reports")
	case tr.ServerPort.RTCP <= 0 || tr.ServerPort.RTCP > 65535:
		return errors.New("bad server_port")
	default:
		u.rtcpDst = netip.AddrPortFrom(dst, uint16(tr.ServerPort.RTCP))
	}
	return nil
}

// accepts reports whether a datagram from addr belongs to the stream.
func (u *clientUDP) accepts(addr netip.Addr) bool {
	a := addr.Unmap()
	return a == u.server || (u.source.IsValid() && a == u.source)
}

func (u *clientUDP) close() {
	_ = u.rtp.Close()
	_ = u.rtcp.Close()
}

// readUDP delivers the datagrams of one socket of stream i until it is
// closed or its deadline passes.
func (c *Client) readUDP(i int, conn *net.UDPConn, rtcp bool) error {
	buf := make([]byte, maxClientFrame)
	u := c.streams[i].udp
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("read udp stream %d: %w", i, err)
		}
		if n == 0 || !u.accepts(addr.Addr()) {
			continue
		}
		if rtcp || base.IsRTCP(buf[:n]) {
			if err := c.onRTCP(i, buf[:n], time.Now()); err != nil {
				return err
			}
		} else {
			c.onRTP(i, buf[:n], time.Now())
		}
	}
}
