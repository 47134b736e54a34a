package rtsp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// clientUserAgent is sent with every request.
const clientUserAgent = "camvault"

// clientAuth is the challenge a client answers on every request after
// the first 401 (RTSP-AUTH-11). Guarded by Client.wmu.
type clientAuth struct {
	ch     Challenge
	nc     uint32
	cnonce string
}

// send writes one request with CSeq, Session, Authorization and
// User-Agent, under a write deadline, and returns its CSeq.
func (c *Client) send(m Method, uri string, h Header, timeout time.Duration) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.cseq++
	req := Request{Method: m, URL: uri, Header: Header{}}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("CSeq", strconv.Itoa(c.cseq))
	req.Header.Set("User-Agent", clientUserAgent)
	if c.session != "" {
		req.Header.Set("Session", c.session)
	}
	if c.auth != nil {
		c.auth.nc++
		v, err := c.auth.ch.Authorize(m, uri, c.user, c.pass, c.auth.nc, c.auth.cnonce)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", m, err)
		}
		req.Header.Set("Authorization", v)
	}
	b, err := req.Marshal()
	if err != nil {
		return 0, fmt.Errorf("marshal %s: %w", m, err)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(b); err != nil {
		return 0, fmt.Errorf("write %s: %w", m, err)
	}
	c.log.Debug("request sent", "path", RedactURL(uri), "method", string(m))
	return c.cseq, nil
}

// do sends a request and waits for its response, answering 401 with the
// configured credentials once, and again when the nonce went stale
// (RTSP-AUTH-09). Only the handshake and Close call it, never while Run
// reads.
func (c *Client) do(m Method, uri string, h Header) (*Response, error) {
	for attempt := 0; ; attempt++ {
		cseq, err := c.send(m, uri, h, c.cfg.ResponseTimeout)
		if err != nil {
			return nil, err
		}
		resp, err := c.readResponse(cseq)
		if err != nil {
			return nil, fmt.Errorf("wait for %s response: %w", m, err)
		}
		if resp.StatusCode != StatusUnauthorized {
			return resp, nil
		}
		if err := c.onUnauthorized(resp, attempt); err != nil {
			return nil, fmt.Errorf("%s %s: %w", m, RedactURL(uri), err)
		}
	}
}

// onUnauthorized decides whether a 401 may be retried: the first one when
// credentials are configured, later ones only with stale=TRUE.
func (c *Client) onUnauthorized(resp *Response, attempt int) error {
	if c.user == "" && c.pass == "" {
		return fmt.Errorf("camera requires credentials: %w", ErrAuthFailed)
	}
	cs, err := ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return fmt.Errorf("www-authenticate: %w", err)
	}
	ch, ok := PickChallenge(cs)
	if !ok {
		return fmt.Errorf("no supported auth scheme: %w", ErrAuthFailed)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	fresh := c.auth == nil || (attempt == 0 && c.auth.ch.Nonce != ch.Nonce)
	if attempt > 2 || !(fresh || ch.Stale) {
		return fmt.Errorf("credentials refused: %w", ErrAuthFailed)
	}
	c.auth = &clientAuth{ch: ch, cnonce: newCNonce()}
	return nil
}

func newCNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// readResponse reads until the response with CSeq cseq, within
// ResponseTimeout. Interleaved frames are delivered, server requests
// answered with 501, stray responses (keepalives) skipped.
func (c *Client) readResponse(cseq int) (*Response, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.cfg.ResponseTimeout))
	defer func() { _ = c.nc.SetReadDeadline(time.Time{}) }()
	for {
		resp, err := c.readMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, fmt.Errorf("%w after %v", ErrResponseTimeout, c.cfg.ResponseTimeout)
			}
			return nil, err
		}
		if resp.Header.Get("CSeq") == strconv.Itoa(cseq) {
			return resp, nil
		}
	}
}

// readMessage reads interleaved frames and server requests until a
// response arrives (CLI-24, RTSP-IL-04).
func (c *Client) readMessage() (*Response, error) {
	for {
		b, err := c.br.Peek(5)
		if err != nil {
			if len(b) > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch {
		case b[0] == InterleavedMagic:
			if err := c.readFrame(); err != nil {
				return nil, err
			}
		case string(b) == "RTSP/":
			var resp Response
			if err := resp.Unmarshal(c.br, c.cfg.Limits); err != nil {
				return nil, fmt.Errorf("read response: %w", err)
			}
			return &resp, nil
		default:
			if err := c.answerRequest(); err != nil {
				return nil, err
			}
		}
	}
}

func (c *Client) readFrame() error {
	var f InterleavedFrame
	err := f.Unmarshal(c.br, c.frame)
	switch {
	case errors.Is(err, ErrMalformed):
		return nil // empty frame, already skipped (RTSP-IL-01)
	case err != nil:
		return fmt.Errorf("read interleaved frame: %w", err)
	}
	for i, s := range c.streams {
		switch {
		case s.channels == nil:
		case int(f.Channel) == s.channels.RTCP || (int(f.Channel) == s.channels.RTP && isRTCP(f.Payload)):
			c.onRTCP(i, f.Payload)
			return nil
		case int(f.Channel) == s.channels.RTP:
			c.onRTP(i, f.Payload)
			return nil
		}
	}
	return nil // unknown channel: discard (RTSP-IL-02)
}

// answerRequest reads a server-initiated request and answers 501 (CLI-24).
func (c *Client) answerRequest() error {
	var req Request
	if err := req.Unmarshal(c.br, c.cfg.Limits); err != nil {
		return fmt.Errorf("read server request: %w", err)
	}
	resp := Response{StatusCode: StatusNotImplemented, Header: Header{}}
	resp.Header.Set("CSeq", req.Header.Get("CSeq"))
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.ResponseTimeout))
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("answer server request: %w", err)
	}
	return nil
}
