package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

const (
	// dialTimeout bounds the TCP connect of a publisher or player.
	dialTimeout = 5 * time.Second
	// requestTimeout bounds each request and its response.
	requestTimeout = 10 * time.Second
	// readBufferSize is the read buffer of each bench RTSP connection.
	readBufferSize = 16 << 10
	// skipBufferSize is the largest interleaved frame skipped by copying;
	// longer ones are skipped by base.InterleavedFrame unread.
	skipBufferSize = 2 << 10
	// userAgent is sent with every request.
	userAgent = "camvault-bench"
	// cnonce is the Digest client nonce of every bench session.
	cnonce = "be7c4c1e"
)

// rtspConn is the client end of one RTSP connection of a publisher or a
// player: requests are written as base.Request, responses read as
// base.Response. One goroutine uses it at a time.
type rtspConn struct {
	nc net.Conn
	br *bufio.Reader
	// user and password are the Digest credentials, "" for none.
	user, password string
	auth           *rtspauth.Challenge // the server's challenge, once answered
	cseq           int
	session        string // the Session ID of the last response that had one
	skip           []byte // scratch buffer for skipped interleaved frames
}

// dialRTSP connects to addr, over TLS when tlsConn is set (the bench's own
// self-signed certificate on loopback is not verified).
func dialRTSP(ctx context.Context, addr string, tlsConn bool) (*rtspConn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tlsConn {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // see above
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	return newRTSPConn(nc), nil
}

func newRTSPConn(nc net.Conn) *rtspConn {
	return &rtspConn{nc: nc, br: bufio.NewReaderSize(nc, readBufferSize)}
}

// do sends one request and reads its response. A 401 is answered once with
// the credentials, which later requests then carry. A status other than
// 2xx is an error.
func (c *rtspConn) do(method base.Method, url string, h base.Header, body []byte) (*base.Response, error) {
	resp, err := c.roundTrip(method, url, h, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == base.StatusUnauthorized && c.user != "" && c.auth == nil {
		cs, err := rtspauth.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if ch, ok := rtspauth.PickChallenge(cs); ok {
			c.auth = &ch
			if resp, err = c.roundTrip(method, url, h, body); err != nil {
				return nil, err
			}
		}
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %s", method, base.RedactURL(url), resp.StatusCode, resp.Reason)
	}
	if v := resp.Header.Get("Session"); v != "" {
		var s headers.Session
		if err := s.Unmarshal(v); err != nil {
			return nil, fmt.Errorf("%s: session: %w", method, err)
		}
		c.session = s.ID
	}
	return resp, nil
}

// roundTrip writes one request with CSeq, User-Agent, Authorization and
// Session, and reads the next response within requestTimeout.
func (c *rtspConn) roundTrip(method base.Method, url string, h base.Header, body []byte) (*base.Response, error) {
	c.cseq++
	req := base.Request{Method: method, URL: url, Header: h.Clone(), Body: body}
	if req.Header == nil {
		req.Header = base.Header{}
	}
	req.Header.Set("CSeq", strconv.Itoa(c.cseq))
	req.Header.Set("User-Agent", userAgent)
	if c.auth != nil {
		v, err := c.auth.Authorize(method, url, c.user, c.password, uint32(c.cseq), cnonce)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		req.Header.Set("Authorization", v)
	}
	if c.session != "" {
		req.Header.Set("Session", c.session)
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", method, err)
	}
	_ = c.nc.SetDeadline(time.Now().Add(requestTimeout))
	defer func() { _ = c.nc.SetDeadline(time.Time{}) }()
	if _, err := c.nc.Write(b); err != nil {
		return nil, fmt.Errorf("write %s: %w", method, err)
	}
	if err := skipFrames(c.br, &c.skip); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	var resp base.Response
	if err := resp.Unmarshal(c.br, base.Limits{}); err != nil {
		return nil, fmt.Errorf("%s: read response: %w", method, err)
	}
	return &resp, nil
}

// skipFrames skips interleaved frames up to the next RTSP message: media
// still arriving for a player, RTCP a puller sends to a camera. *scratch is
// allocated on first use.
func skipFrames(br *bufio.Reader, scratch *[]byte) error {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return err
		}
		if b[0] != base.InterleavedMagic {
			return nil
		}
		if *scratch == nil {
			*scratch = make([]byte, skipBufferSize)
		}
		var f base.InterleavedFrame
		if err := f.Unmarshal(br, *scratch); err != nil &&
			!errors.Is(err, base.ErrFrameTooLarge) && !errors.Is(err, base.ErrMalformed) {
			return err
		}
	}
}

// close closes the connection.
func (c *rtspConn) close() error { return c.nc.Close() }
