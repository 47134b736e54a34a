package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// benchPublisher is one bench camera: a minimal RTSP publisher that replays
// the shared clip batches at real-time pace.
type benchPublisher struct {
	addr      string // RTSP server host:port
	camera    string
	transport string // tcp | udp
	clip      *benchClip
	tls       bool   // RTSPS
	user      string // Digest credentials, "" for none
	password  string
	auth      *rtspauth.Challenge // the server's challenge, once answered

	conn    net.Conn
	r       *bufio.Reader
	cseq    int
	session string
	udp     []*net.UDPConn // per stream: RTP socket (RTCP sockets are held open beside them)
	rtcp    []*net.UDPConn
	sent    int64 // bytes written
}

// connect runs OPTIONS, ANNOUNCE, SETUP per stream and RECORD.
func (p *benchPublisher) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return err
	}
	scheme := "rtsp"
	if p.tls {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // the bench's own self-signed certificate on loopback
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return err
		}
		c, scheme = tc, "rtsps"
	}
	p.conn, p.r = c, newReader(c)
	base := scheme + "://" + p.addr + "/" + p.camera
	if _, err := p.request("OPTIONS", base, nil, nil); err != nil {
		return err
	}
	if _, err := p.request("ANNOUNCE", base, []string{"Content-Type: application/sdp"}, p.clip.sdp); err != nil {
		return err
	}
	for i, t := range p.clip.tracks {
		transport, err := p.transportFor(i)
		if err != nil {
			return err
		}
		hdr, err := p.request("SETUP", base+"/"+t.Control, []string{"Transport: " + transport}, nil)
		if err != nil {
			return err
		}
		if p.transport == "udp" {
			if err := p.connectUDP(i, hdr["transport"]); err != nil {
				return err
			}
		}
	}
	_, err = p.request("RECORD", base, []string{"Range: npt=0.000-"}, nil)
	return err
}

func (p *benchPublisher) transportFor(i int) (string, error) {
	if p.transport == "tcp" {
		return fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record", 2*i, 2*i+1), nil
	}
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return "", err
	}
	p.udp, p.rtcp = append(p.udp, rtpConn), append(p.rtcp, rtcpConn)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	return fmt.Sprintf("RTP/AVP/UDP;unicast;client_port=%d-%d;mode=record", port, port+1), nil
}

// connectUDP points stream i's RTP socket at the server_port of the reply.
func (p *benchPublisher) connectUDP(i int, transport string) error {
	for _, part := range strings.Split(transport, ";") {
		if v, ok := strings.CutPrefix(part, "server_port="); ok {
			port, err := strconv.Atoi(strings.Split(v, "-")[0])
			if err != nil {
				return fmt.Errorf("server_port %q", v)
			}
			host, _, _ := net.SplitHostPort(p.addr)
			raddr := &net.UDPAddr{IP: net.ParseIP(host), Port: port}
			laddr := p.udp[i].LocalAddr().(*net.UDPAddr)
			p.udp[i].Close()
			c, err := net.DialUDP("udp", laddr, raddr)
			if err != nil {
				return err
			}
			_ = c.SetWriteBuffer(1 << 20)
			p.udp[i] = c
			return nil
		}
	}
	return fmt.Errorf("no server_port in %q", transport)
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
	return nil, nil, fmt.Errorf("no free UDP port pair")
}

// request sends one request and reads its response; it returns the
// response headers (lower-case names) or an error for a non-2xx status.
func (p *benchPublisher) request(method, url string, headers []string, body []byte) (map[string]string, error) {
	hdr, _, err := p.exchange(method, url, headers, body)
	return hdr, err
}

// requestBody is request for a bodiless request whose response has a body.
func (p *benchPublisher) requestBody(method, url string, headers []string) (map[string]string, []byte, error) {
	return p.exchange(method, url, headers, nil)
}

// exchange sends one request and reads its response. A 401 is answered once
// with the publisher's Digest credentials; later requests carry them.
func (p *benchPublisher) exchange(method, url string, headers []string, body []byte) (map[string]string, []byte, error) {
	hdr, respBody, err := p.exchangeOnce(method, url, headers, body)
	var unauthorized *benchUnauthorized
	if !errors.As(err, &unauthorized) || p.user == "" || p.auth != nil {
		return hdr, respBody, err
	}
	cs, perr := rtspauth.ParseWWWAuthenticate(unauthorized.challenges)
	if perr != nil {
		return nil, nil, perr
	}
	ch, ok := rtspauth.PickChallenge(cs)
	if !ok {
		return nil, nil, err
	}
	p.auth = &ch
	return p.exchangeOnce(method, url, headers, body)
}

// benchUnauthorized is a 401 with its challenges.
type benchUnauthorized struct{ challenges []string }

func (e *benchUnauthorized) Error() string { return "401 Unauthorized" }

func (p *benchPublisher) exchangeOnce(method, url string, headers []string, body []byte) (map[string]string, []byte, error) {
	p.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: camvault-bench\r\n", method, url, p.cseq)
	if p.auth != nil {
		v, err := p.auth.Authorize(base.Method(method), url, p.user, p.password, uint32(p.cseq), "be7c4c1e")
		if err != nil {
			return nil, nil, err
		}
		b.WriteString("Authorization: " + v + "\r\n")
	}
	if p.session != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", p.session)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	_ = p.conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer p.conn.SetDeadline(time.Time{})
	if _, err := p.conn.Write(append([]byte(b.String()), body...)); err != nil {
		return nil, nil, err
	}
	status, err := p.r.ReadString('\n')
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", method, err)
	}
	hdr := map[string]string{}
	var challenges []string
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			return nil, nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			hdr[k] = v
			if k == "www-authenticate" {
				challenges = append(challenges, v)
			}
		}
	}
	var respBody []byte
	if n, _ := strconv.Atoi(hdr["content-length"]); n > 0 {
		respBody = make([]byte, n)
		if _, err := io.ReadFull(p.r, respBody); err != nil {
			return nil, nil, err
		}
	}
	if f := strings.Fields(status); len(f) >= 2 && f[1] == "401" {
		return nil, nil, &benchUnauthorized{challenges: challenges}
	}
	if f := strings.Fields(status); len(f) < 2 || f[1][0] != '2' {
		return nil, nil, fmt.Errorf("%s %s: %s", method, url, strings.TrimSpace(status))
	}
	if s := hdr["session"]; s != "" {
		p.session, _, _ = strings.Cut(s, ";")
	}
	return hdr, respBody, nil
}

// stream replays the clip from start: one write per batch (TCP) or one
// datagram per packet (UDP).
func (p *benchPublisher) stream(ctx context.Context, start time.Time) error {
	for i := range p.clip.batches {
		b := &p.clip.batches[i]
		if d := time.Until(start.Add(b.at)); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		if err := p.writeBatch(b); err != nil {
			return err
		}
	}
	return nil
}

func (p *benchPublisher) writeBatch(b *batch) error {
	if p.transport == "tcp" {
		_ = p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		n, err := p.conn.Write(b.interleaved)
		p.sent += int64(n)
		return err
	}
	for j, d := range b.datagrams {
		n, err := p.udp[b.streams[j]].Write(d)
		p.sent += int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// close sends TEARDOWN and releases the sockets.
func (p *benchPublisher) close() {
	if p.conn != nil {
		_, _ = p.request("TEARDOWN", "rtsp://"+p.addr+"/"+p.camera, nil, nil)
		p.conn.Close()
	}
	for _, c := range append(p.udp, p.rtcp...) {
		c.Close()
	}
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 16<<10) }

// netDialer dials the RTSP server with a timeout.
type netDialer struct{ timeout time.Duration }

func (d *netDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	return nd.DialContext(ctx, "tcp", addr)
}
