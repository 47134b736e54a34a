//go:build interop

package interop

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// rawConn is the scripted player for attacks: any request, any order, raw interleaved
// frames (written to Conn), from a chosen source address. Its requests tolerate a server
// that drops the connection, and it answers Digest challenges when it has a user.
type rawConn struct {
	*rtsptest.Player
	t        *testing.T
	user, pw string
	auth     *auth.Challenge
}

// attackTimeout bounds each request of an attack: the server under attack answers slowly.
const attackTimeout = 30 * time.Second

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
	p := rtsptest.NewPlayer(t, nc, "rtsp://"+addr)
	p.ReadTimeout = attackTimeout
	return &rawConn{Player: p, t: t}
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

// send sends one request, with the answer to the challenge once there is one, and returns
// its response, nil when the connection failed.
func (c *rawConn) send(method, url string, headers []string, body string) *base.Response {
	c.t.Helper()
	if c.auth != nil {
		v, err := c.auth.Authorize(base.Method(method), url, c.user, c.pw, uint32(c.CSeq+1), "0a4f113b")
		if err != nil {
			c.t.Fatal(err)
		}
		headers = append([]string{"Authorization: " + v}, headers...)
	}
	resp, err := c.TryRequest(method, url, headers, body)
	if err != nil {
		return nil
	}
	return resp
}

// status returns the status of a response, 0 for none.
func status(resp *base.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// recordTCP announces sdp for camera and records its first stream on
// interleaved channels ch, ch+1; it returns the status of the first
// refused step, or 200.
func (c *rawConn) recordTCP(camera, sdp string, ch int) int {
	c.t.Helper()
	url := c.URL + "/" + camera
	if st := status(c.do("ANNOUNCE", url, []string{"Content-Type: application/sdp"}, sdp)); st != 200 {
		return st
	}
	resp := c.do("SETUP", url+"/streamid=0", []string{fmt.Sprintf("Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record", ch, ch+1)}, "")
	if status(resp) != 200 {
		return status(resp)
	}
	return status(c.do("RECORD", url, []string{"Session: " + rtsptest.SessionID(c.t, resp)}, ""))
}

// frame returns an interleaved frame of pkt on ch.
func frame(ch int, pkt []byte) []byte {
	f := base.InterleavedFrame{Channel: byte(ch), Payload: pkt}
	b, err := f.Marshal()
	if err != nil {
		panic(err) // a packet over 64 KiB is a mistake in the test
	}
	return b
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
	url := c.URL + "/" + path
	if st := status(c.do("DESCRIBE", url, []string{"Accept: application/sdp"}, "")); st != 200 {
		return st
	}
	resp := c.do("SETUP", url+"/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
	if status(resp) != 200 {
		return status(resp)
	}
	return status(c.do("PLAY", url, []string{"Session: " + rtsptest.SessionID(c.t, resp)}, ""))
}

// drain reads the connection until it fails: a viewer that reads
// everything and says nothing.
func (c *rawConn) drain() {
	_ = c.Conn.SetDeadline(time.Time{})
	_, _ = io.Copy(io.Discard, c.Reader)
}
