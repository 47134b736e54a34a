package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// publisher is one bench camera pushing to camvault: ANNOUNCE, SETUP per
// stream and RECORD, then the shared schedule at real-time pace.
type publisher struct {
	addr      string // RTSP server host:port
	camera    string
	transport string // tcp | udp
	sched     *schedule
	tls       bool // RTSPS
	// user and password are the Digest credentials, "" for none.
	user, password string

	rc *rtspConn
	sender
	rtcp []*net.UDPConn // per stream, held open beside sender.udp
}

// url returns the publisher's presentation URL.
func (p *publisher) url() string {
	scheme := "rtsp"
	if p.tls {
		scheme = "rtsps"
	}
	return scheme + "://" + p.addr + "/" + p.camera
}

// connect runs OPTIONS, ANNOUNCE, SETUP per stream and RECORD.
func (p *publisher) connect(ctx context.Context) error {
	rc, err := dialRTSP(ctx, p.addr, p.tls)
	if err != nil {
		return err
	}
	p.rc, p.sender.sched = rc, p.sched
	rc.user, rc.password = p.user, p.password
	baseURL := p.url()
	if _, err := rc.do(base.MethodOptions, baseURL, nil, nil); err != nil {
		return err
	}
	h := base.Header{}
	h.Set("Content-Type", "application/sdp")
	if _, err := rc.do(base.MethodAnnounce, baseURL, h, p.sched.sdp); err != nil {
		return err
	}
	for i, t := range p.sched.clip.Tracks {
		if err := p.setup(i, baseURL+"/"+t.Control); err != nil {
			return err
		}
	}
	if p.transport == "tcp" {
		p.sender.tcp = rc.nc
	}
	h = base.Header{}
	h.Set("Range", (&headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{}}).Marshal())
	_, err = rc.do(base.MethodRecord, baseURL, h, nil)
	return err
}

// setup sets stream i up: interleaved channels 2i and 2i+1 over TCP, or a
// local UDP port pair connected to the server's.
func (p *publisher) setup(i int, url string) error {
	tr, err := p.requestTransport(i)
	if err != nil {
		return err
	}
	h := base.Header{}
	h.Set("Transport", tr.Marshal())
	resp, err := p.rc.do(base.MethodSetup, url, h, nil)
	if err != nil || p.transport != "udp" {
		return err
	}
	port, err := serverRTPPort(resp.Header.Get("Transport"))
	if err != nil {
		return err
	}
	return p.connectUDP(i, port)
}

// requestTransport returns the Transport that SETUP of stream i asks for;
// over UDP it binds the stream's port pair first.
func (p *publisher) requestTransport(i int) (*headers.Transport, error) {
	tr := &headers.Transport{Profile: "RTP/AVP", Mode: headers.ModeRecord}
	if p.transport == "tcp" {
		tr.Lower, tr.Interleaved = headers.LowerTCP, &headers.PortPair{RTP: 2 * i, RTCP: 2*i + 1}
		return tr, nil
	}
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return nil, err
	}
	p.udp, p.rtcp = append(p.udp, rtpConn), append(p.rtcp, rtcpConn)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	tr.ClientPort = &headers.PortPair{RTP: port, RTCP: port + 1}
	return tr, nil
}

// serverRTPPort returns the server_port RTP port of a SETUP response's
// Transport header.
func serverRTPPort(v string) (int, error) {
	var tr headers.Transport
	if err := tr.Unmarshal(v); err != nil {
		return 0, fmt.Errorf("transport %q: %w", v, err)
	}
	if tr.ServerPort == nil {
		return 0, fmt.Errorf("no server_port in %q", v)
	}
	return tr.ServerPort.RTP, nil
}

// connectUDP points stream i's RTP socket at the server's RTP port.
func (p *publisher) connectUDP(i, port int) error {
	host, _, err := net.SplitHostPort(p.addr)
	if err != nil {
		return err
	}
	c, err := redialUDP(p.udp[i], &net.UDPAddr{IP: net.ParseIP(host), Port: port})
	if err != nil {
		return err
	}
	p.udp[i] = c
	return nil
}

// redialUDP replaces the unconnected socket c by one on the same local
// port connected to raddr, with a 1 MiB send buffer.
func redialUDP(c *net.UDPConn, raddr *net.UDPAddr) (*net.UDPConn, error) {
	laddr := c.LocalAddr().(*net.UDPAddr)
	_ = c.Close()
	nc, err := net.DialUDP("udp", laddr, raddr)
	if err != nil {
		return nil, err
	}
	_ = nc.SetWriteBuffer(1 << 20)
	return nc, nil
}

// listenUDPPair binds an even/odd UDP port pair on 127.0.0.1.
func listenUDPPair() (*net.UDPConn, *net.UDPConn, error) {
	for range 200 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, nil, err
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, errors.New("no free UDP port pair")
}

// close sends TEARDOWN and releases the sockets.
func (p *publisher) close() {
	if p.rc != nil {
		_, _ = p.rc.do(base.MethodTeardown, p.url(), nil, nil) // the session ends with the connection anyway
		p.rc.close()
	}
	closeUDP(p.udp)
	closeUDP(p.rtcp)
}

func closeUDP(cs []*net.UDPConn) {
	for _, c := range cs {
		_ = c.Close()
	}
}

// sender replays a schedule from a start time at real-time pace: one write
// per batch over TCP, one datagram per packet over UDP.
type sender struct {
	sched *schedule
	tcp   net.Conn       // the RTSP connection, nil over UDP
	udp   []*net.UDPConn // per stream: the connected RTP socket, over UDP
}

// stream sends every batch when it is due.
func (s *sender) stream(ctx context.Context, start time.Time) error {
	for i := range s.sched.batches {
		b := &s.sched.batches[i]
		if d := time.Until(start.Add(b.at)); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		if err := s.writeBatch(b); err != nil {
			return err
		}
	}
	return nil
}

// writeBatch writes one batch; it allocates nothing.
func (s *sender) writeBatch(b *batch) error {
	if s.tcp != nil {
		_ = s.tcp.SetWriteDeadline(time.Now().Add(requestTimeout))
		_, err := s.tcp.Write(b.interleaved)
		return err
	}
	for j, d := range b.datagrams {
		if _, err := s.udp[b.streams[j]].Write(d); err != nil {
			return err
		}
	}
	return nil
}
