package rtsp_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// camera is a scripted fake camera: it accepts one connection on
// 127.0.0.1:0 and runs a script on it in a goroutine the test waits for.
type camera struct {
	t    testing.TB
	ln   net.Listener
	url  string // rtsp://127.0.0.1:port/cam1
	done chan error
}

func startCamera(t testing.TB) *camera {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &camera{t: t, ln: ln, url: "rtsp://" + ln.Addr().String() + "/cam1", done: make(chan error, 1)}
}

// serve runs script on the next accepted connection.
func (c *camera) serve(script func(cc *camConn) error) {
	go func() {
		nc, err := c.ln.Accept()
		if err != nil {
			c.done <- err
			return
		}
		defer nc.Close()
		cc := &camConn{nc: nc, br: bufio.NewReader(nc), rtcp: map[byte]int{}}
		c.done <- script(cc)
	}()
}

// wait returns the script's error.
func (c *camera) wait() {
	c.t.Helper()
	select {
	case err := <-c.done:
		if err != nil {
			c.t.Fatalf("camera script: %v", err)
		}
	case <-time.After(5 * time.Second):
		c.t.Fatal("camera script did not finish")
	}
}

// camConn is the camera side of one connection.
type camConn struct {
	nc      net.Conn
	br      *bufio.Reader
	rtcp    map[byte]int // interleaved frames received per channel
	lastRR  []byte
	methods []base.Method
}

// read returns the next request, counting interleaved frames on the way.
func (cc *camConn) read() (*base.Request, error) {
	_ = cc.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		b, err := cc.br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '$' {
			break
		}
		var f base.InterleavedFrame
		if err := f.Unmarshal(cc.br, make([]byte, 1<<16)); err != nil {
			return nil, err
		}
		cc.rtcp[f.Channel]++
		cc.lastRR = bytes.Clone(f.Payload)
	}
	var req base.Request
	if err := req.Unmarshal(cc.br, base.Limits{}); err != nil {
		return nil, err
	}
	cc.methods = append(cc.methods, req.Method)
	return &req, nil
}

// expect reads the next request and checks its method.
func (cc *camConn) expect(m base.Method) (*base.Request, error) {
	req, err := cc.read()
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", m, err)
	}
	if req.Method != m {
		return nil, fmt.Errorf("got %s, want %s", req.Method, m)
	}
	return req, nil
}

// reply answers req; hdr alternates names and values.
func (cc *camConn) reply(req *base.Request, status int, body string, hdr ...string) error {
	resp := base.Response{StatusCode: status, Header: base.Header{}, Body: []byte(body)}
	resp.Header.Set("CSeq", req.Header.Get("CSeq"))
	for i := 0; i+1 < len(hdr); i += 2 {
		resp.Header.Add(hdr[i], hdr[i+1])
	}
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	_, err = cc.nc.Write(b)
	return err
}

func (cc *camConn) writeFrame(ch byte, payload []byte) error {
	f := base.InterleavedFrame{Channel: ch, Payload: payload}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	_, err = cc.nc.Write(b)
	return err
}

// untilTeardown answers keepalives with 200 until TEARDOWN or EOF.
func (cc *camConn) untilTeardown() error {
	for {
		req, err := cc.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if req.Method == base.MethodTeardown {
			return nil
		}
		if err := cc.reply(req, 200, ""); err != nil {
			return err
		}
	}
}

// camSDP has a relative and an absolute control; %s is the absolute base.
const camSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\na=control:*\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n" +
	"m=audio 0 RTP/AVP 0\r\na=control:%s/abs1\r\n"

// playHandshake answers OPTIONS, DESCRIBE, SETUP per media (TCP) and
// PLAY, and returns the SETUP URLs.
func (cc *camConn) playHandshake(baseURL string) ([]string, error) {
	req, err := cc.expect(base.MethodOptions)
	if err != nil {
		return nil, err
	}
	if err := cc.reply(req, 200, "", "Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"); err != nil {
		return nil, err
	}
	if req, err = cc.expect(base.MethodDescribe); err != nil {
		return nil, err
	}
	if err := cc.reply(req, 200, fmt.Sprintf(camSDP, baseURL), "Content-Type", "application/sdp", "Content-Base", baseURL+"/"); err != nil {
		return nil, err
	}
	return cc.setupAndPlay(2)
}

func (cc *camConn) setupAndPlay(n int) ([]string, error) {
	var urls []string
	for range n {
		req, err := cc.expect(base.MethodSetup)
		if err != nil {
			return nil, err
		}
		urls = append(urls, req.URL)
		if err := cc.reply(req, 200, "", "Session", "12345678;timeout=60", "Transport", req.Header.Get("Transport")); err != nil {
			return nil, err
		}
	}
	req, err := cc.expect(base.MethodPlay)
	if err != nil {
		return nil, err
	}
	if req.Header.Get("Session") != "12345678" {
		return nil, fmt.Errorf("play session %q", req.Header.Get("Session"))
	}
	return urls, cc.reply(req, 200, "", "Session", "12345678")
}

// playUDP answers a UDP SETUP (which must not set mode=, CLI-22) with its
// Transport plus suffix, and PLAY; then a stranger at 127.0.0.2 sends an
// RTP packet that the client must drop (RTSP-TR-09, client side). It
// returns the client's RTP address.
func (cc *camConn) playUDP(req *base.Request, suffix string) (*net.UDPAddr, error) {
	var tr headers.Transport
	if err := tr.Unmarshal(req.Header.Get("Transport")); err != nil || tr.ClientPort == nil || tr.Mode != headers.ModeUnset {
		return nil, fmt.Errorf("setup transport %q: %v", req.Header.Get("Transport"), err)
	}
	if err := cc.reply(req, 200, "", "Session", "abc", "Transport", req.Header.Get("Transport")+suffix); err != nil {
		return nil, err
	}
	req, err := cc.expect(base.MethodPlay)
	if err != nil {
		return nil, err
	}
	if err := cc.reply(req, 200, ""); err != nil {
		return nil, err
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tr.ClientPort.RTP}
	if stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err == nil {
		_, _ = stranger.WriteToUDP(camRTP(99, 0), dst)
		_ = stranger.Close()
	}
	return dst, nil
}

// camRTP is a minimal RTP packet of ssrc with sequence seq.
func camRTP(seq uint16, ts uint32) []byte {
	return []byte{0x80, 96, byte(seq >> 8), byte(seq), byte(ts >> 24), byte(ts >> 16), byte(ts >> 8), byte(ts),
		0xde, 0xad, 0xbe, 0xef, 0x65, 1, 2, 3}
}

// received collects the packets given to OnRTP.
type received struct {
	mu   sync.Mutex
	pkts []string // "stream:seq"
}

func (r *received) onRTP(stream int, pkt []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, fmt.Sprintf("%d:%d", stream, int(pkt[2])<<8|int(pkt[3])))
}

func (r *received) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.pkts, " ")
}

// captureLogger returns a debug logger writing into a buffer.
func captureLogger() (*slog.Logger, *lockedBuffer) {
	var b lockedBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// fastConfig has short timeouts for tests.
func fastConfig(url string) rtsp.ClientConfig {
	return rtsp.ClientConfig{
		URL: url, DialTimeout: time.Second, ResponseTimeout: time.Second,
		KeepaliveInterval: 50 * time.Millisecond, ReceiverReportInterval: 50 * time.Millisecond,
		MediaTimeout: 2 * time.Second,
	}
}
