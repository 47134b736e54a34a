package rtsptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// Camera is a scripted RTSP camera on 127.0.0.1:0. Serve starts accepting; every connection
// runs the script in a goroutine the camera owns, and Next reports how each script ended.
// The listener closes and every script is waited for when the test ends.
type Camera struct {
	// URL is rtsp://127.0.0.1:port/cam1.
	URL string
	// Addr is the listening address, host:port.
	Addr string

	ln      net.Listener
	results chan Result
	ended   chan struct{} // closed when the test ends: results are no longer read
	wg      sync.WaitGroup
}

// Result is how the script of one connection ended.
type Result struct {
	// Conn numbers the connection, from 0 in the order of acceptance.
	Conn int
	// Err is what the script returned.
	Err error
}

// String is "N ok" or "N <error>", N being the connection number.
func (r Result) String() string {
	if r.Err == nil {
		return fmt.Sprintf("%d ok", r.Conn)
	}
	return fmt.Sprintf("%d %v", r.Conn, r.Err)
}

// maxResults is how many results may wait for Next before a script blocks.
const maxResults = 100

// NewCamera listens on 127.0.0.1:0.
func NewCamera(t testing.TB) *Camera {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Camera{URL: "rtsp://" + ln.Addr().String() + "/cam1", Addr: ln.Addr().String(),
		ln: ln, results: make(chan Result, maxResults), ended: make(chan struct{})}
	t.Cleanup(func() {
		close(c.ended)
		_ = ln.Close()
		c.wg.Wait()
	})
	return c
}

// Serve accepts connections until the test ends and runs script on each. Call it once.
func (c *Camera) Serve(script func(cc *CameraConn) error) {
	c.wg.Go(func() {
		var conns sync.WaitGroup
		defer conns.Wait()
		for n := 0; ; n++ {
			nc, err := c.ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer nc.Close()
				cc := &CameraConn{N: n, Conn: nc, Reader: bufio.NewReader(nc), Frames: map[byte]int{}}
				r := Result{Conn: n, Err: script(cc)}
				select {
				case c.results <- r:
				case <-c.ended:
				}
			})
		}
	})
}

// Next returns how the next script ended, failing the test after Timeout.
func (c *Camera) Next(t testing.TB) Result {
	t.Helper()
	return Receive(t, "camera script", c.results)
}

// Wait waits for the next script and fails the test if it returned an error.
func (c *Camera) Wait(t testing.TB) {
	t.Helper()
	if r := c.Next(t); r.Err != nil {
		t.Fatalf("camera script: %v", r.Err)
	}
}

// CameraConn is the camera side of one connection. Its methods are called from the script's
// goroutine only.
type CameraConn struct {
	// N numbers the connection, from 0.
	N int
	// Conn is the connection, for raw writes and closing.
	Conn net.Conn
	// Reader reads Conn, for raw reads.
	Reader *bufio.Reader
	// Frames counts the interleaved frames Read skipped, per channel.
	Frames map[byte]int
	// LastFrame is the payload of the last of them.
	LastFrame []byte
	// Methods lists the methods of the requests read so far.
	Methods []base.Method
}

// readTimeout bounds each read of a request: a client that says nothing fails the script.
const readTimeout = 5 * time.Second

// Read returns the next request, counting the interleaved frames before it.
func (cc *CameraConn) Read() (*base.Request, error) {
	_ = cc.Conn.SetReadDeadline(time.Now().Add(readTimeout))
	for {
		b, err := cc.Reader.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != base.InterleavedMagic {
			break
		}
		var f base.InterleavedFrame
		if err := f.Unmarshal(cc.Reader, make([]byte, 1<<16)); err != nil {
			return nil, err
		}
		cc.Frames[f.Channel]++
		cc.LastFrame = bytes.Clone(f.Payload)
	}
	var req base.Request
	if err := req.Unmarshal(cc.Reader, base.Limits{}); err != nil {
		return nil, err
	}
	cc.Methods = append(cc.Methods, req.Method)
	return &req, nil
}

// Expect reads the next request and checks its method.
func (cc *CameraConn) Expect(m base.Method) (*base.Request, error) {
	req, err := cc.Read()
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", m, err)
	}
	if req.Method != m {
		return nil, fmt.Errorf("got %s, want %s", req.Method, m)
	}
	return req, nil
}

// Reply answers req with status and body; hdr alternates header names and values.
func (cc *CameraConn) Reply(req *base.Request, status int, body string, hdr ...string) error {
	resp := base.Response{StatusCode: status, Header: base.Header{}, Body: []byte(body)}
	resp.Header.Set("CSeq", req.Header.Get("CSeq"))
	for i := 0; i+1 < len(hdr); i += 2 {
		resp.Header.Add(hdr[i], hdr[i+1])
	}
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	_, err = cc.Conn.Write(b)
	return err
}

// WriteFrame sends payload in an interleaved frame on channel ch.
func (cc *CameraConn) WriteFrame(ch byte, payload []byte) error {
	f := base.InterleavedFrame{Channel: ch, Payload: payload}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	_, err = cc.Conn.Write(b)
	return err
}

// CameraSession is the session the camera's SETUP and PLAY answers carry.
const CameraSession = "12345678"

// Handshake answers OPTIONS (Public without GET_PARAMETER), DESCRIBE with sdp (and
// Content-Base when contentBase is not ""), then setups SETUP requests and PLAY. SETUP echoes
// the request's Transport with Session CameraSession and a 60 s timeout. It returns the SETUP
// requests.
func (cc *CameraConn) Handshake(sdp, contentBase string, setups int) ([]*base.Request, error) {
	req, err := cc.Expect(base.MethodOptions)
	if err != nil {
		return nil, err
	}
	if err := cc.Reply(req, 200, "", "Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"); err != nil {
		return nil, err
	}
	if req, err = cc.Expect(base.MethodDescribe); err != nil {
		return nil, err
	}
	hdr := []string{"Content-Type", "application/sdp"}
	if contentBase != "" {
		hdr = append(hdr, "Content-Base", contentBase)
	}
	if err := cc.Reply(req, 200, sdp, hdr...); err != nil {
		return nil, err
	}
	return cc.SetupAndPlay(setups)
}

// SetupAndPlay answers n SETUP requests and PLAY as Handshake does, checking that PLAY
// names the session.
func (cc *CameraConn) SetupAndPlay(n int) ([]*base.Request, error) {
	var setups []*base.Request
	for range n {
		req, err := cc.Expect(base.MethodSetup)
		if err != nil {
			return nil, err
		}
		setups = append(setups, req)
		if err := cc.Reply(req, 200, "", "Session", CameraSession+";timeout=60", "Transport", req.Header.Get("Transport")); err != nil {
			return nil, err
		}
	}
	req, err := cc.Expect(base.MethodPlay)
	if err != nil {
		return nil, err
	}
	if req.Header.Get("Session") != CameraSession {
		return nil, fmt.Errorf("play session %q", req.Header.Get("Session"))
	}
	return setups, cc.Reply(req, 200, "", "Session", CameraSession)
}

// AnswerKeepalives answers the next n requests with 200; each must be OPTIONS or
// GET_PARAMETER.
func (cc *CameraConn) AnswerKeepalives(n int) error {
	for range n {
		req, err := cc.Read()
		if err != nil {
			return fmt.Errorf("waiting for a keepalive: %w", err)
		}
		if req.Method != base.MethodOptions && req.Method != base.MethodGetParameter {
			return fmt.Errorf("got %s, want a keepalive", req.Method)
		}
		if err := cc.Reply(req, 200, ""); err != nil {
			return err
		}
	}
	return nil
}

// UntilTeardown answers every request with 200 until TEARDOWN, which it does not answer, or
// until the client closes the connection. It reports whether TEARDOWN came. An answer that
// cannot be written does not end it: a client that gave up on a request may close without
// reading the answer (the kernel then resets the connection) after sending TEARDOWN, which
// is still read.
func (cc *CameraConn) UntilTeardown() (teardown bool, err error) {
	for {
		req, err := cc.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if req.Method == base.MethodTeardown {
			return true, nil
		}
		_ = cc.Reply(req, 200, "") // see above
	}
}
