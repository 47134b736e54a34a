//go:build interop

package interop

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// rawConn is a scripted RTSP client for attacks: any request, any order,
// raw interleaved frames. It answers Digest challenges when it has a user.
type rawConn struct {
	t        *testing.T
	nc       net.Conn
	br       *bufio.Reader
	cseq     int
	base     string // rtsp://host:port
	user, pw string
	auth     *auth.Challenge
}

// dialRaw connects to addr from the loopback address src ("" for any).
func dialRaw(t *testing.T, addr, src string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 1<<16), base: "rtsp://" + addr}
}

// do sends a request and returns its response, skipping interleaved frames
// before it; with a user it answers a 401 once. A nil response means the
// server closed the connection.
func (c *rawConn) do(method, url string, headers []string, body string) *base.Response {
	c.t.Helper()
	resp := c.send(method, url, headers, body)
	if resp != nil && resp.StatusCode == 401 && c.user != "" && c.auth == nil {
		cs, err := auth.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
		if err != nil {
			c.t.Fatal(err)
		}
		ch, ok := auth.PickChallenge(cs)
		if !ok {
			c.t.Fatalf("no usable challenge in %q", resp.Header.Values("WWW-Authenticate"))
		}
		c.auth = &ch
		resp = c.send(method, url, headers, body)
	}
	return resp
}

func (c *rawConn) send(method, url string, headers []string, body string) *base.Response {
	c.t.Helper()
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	if c.auth != nil {
		v, err := c.auth.Authorize(base.Method(method), url, c.user, c.pw, uint32(c.cseq), "0a4f113b")
		if err != nil {
			c.t.Fatal(err)
		}
		b.WriteString("Authorization: " + v + "\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	_ = c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c.nc, b.String()); err != nil {
		return nil
	}
	for {
		first, err := c.br.Peek(1)
		if err != nil {
			return nil
		}
		if first[0] != '$' {
			break
		}
		hdr, err := c.br.Peek(4)
		if err != nil {
			return nil
		}
		if _, err := c.br.Discard(4 + int(binary.BigEndian.Uint16(hdr[2:]))); err != nil {
			return nil
		}
	}
	var resp base.Response
	if err := resp.Unmarshal(c.br, base.Limits{}); err != nil {
		return nil
	}
	return &resp
}

// status returns the status of a response, 0 for none.
func status(resp *base.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// session returns the session id of a response.
func (c *rawConn) session(resp *base.Response) string {
	c.t.Helper()
	var s headers.Session
	if err := s.Unmarshal(resp.Header.Get("Session")); err != nil {
		c.t.Fatalf("session header %q: %v", resp.Header.Get("Session"), err)
	}
	return s.ID
}

// recordTCP announces sdp for camera and records its first stream on
// interleaved channels ch, ch+1; it returns the status of the first
// refused step, or 200.
func (c *rawConn) recordTCP(camera, sdp string, ch int) int {
	c.t.Helper()
	url := c.base + "/" + camera
	if st := status(c.do("ANNOUNCE", url, []string{"Content-Type: application/sdp"}, sdp)); st != 200 {
		return st
	}
	resp := c.do("SETUP", url+"/streamid=0", []string{fmt.Sprintf("Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record", ch, ch+1)}, "")
	if status(resp) != 200 {
		return status(resp)
	}
	return status(c.do("RECORD", url, []string{"Session: " + c.session(resp)}, ""))
}

// frame returns an interleaved frame of pkt on ch.
func frame(ch int, pkt []byte) []byte {
	return append([]byte{'$', byte(ch), byte(len(pkt) >> 8), byte(len(pkt))}, pkt...)
}

// rtpH264 returns an RTP packet of one H.264 NAL unit (marker set).
func rtpH264(seq uint16, ts, ssrc uint32, nal []byte) []byte {
	p := make([]byte, 12, 12+len(nal))
	p[0], p[1] = 0x80, 0x80|96
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return append(p, nal...)
}

// h264SDP is a one-track H.264 SDP with parameter sets (640x360).
const h264SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA\r\na=control:streamid=0\r\n"

// play describes path, sets up its first stream over TCP and plays it; it
// returns the status of the first refused step, or 200.
func (c *rawConn) play(path string) int {
	c.t.Helper()
	url := c.base + "/" + path
	if st := status(c.do("DESCRIBE", url, []string{"Accept: application/sdp"}, "")); st != 200 {
		return st
	}
	resp := c.do("SETUP", url+"/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
	if status(resp) != 200 {
		return status(resp)
	}
	return status(c.do("PLAY", url, []string{"Session: " + c.session(resp)}, ""))
}

// drain reads the connection until it fails: a viewer that reads
// everything and says nothing.
func (c *rawConn) drain() {
	_ = c.nc.SetDeadline(time.Time{})
	_, _ = io.Copy(io.Discard, c.br)
}
