package rtsp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// clientRoute maps an interleaved channel to a stream (RTSP-IL-02).
type clientRoute struct {
	stream int // index+1 of the stream; 0: the channel is not set up
	rtcp   bool
}

// routeChannels fills the route table from the streams' interleaved
// channels. It runs after SETUP, before Run.
func (c *Client) routeChannels() {
	c.routes = [256]clientRoute{}
	for i, s := range c.streams {
		if s.channels == nil {
			continue
		}
		if ch := s.channels.RTP; ch >= 0 && ch < len(c.routes) {
			c.routes[ch] = clientRoute{stream: i + 1}
		}
		if ch := s.channels.RTCP; ch >= 0 && ch < len(c.routes) {
			c.routes[ch] = clientRoute{stream: i + 1, rtcp: true}
		}
	}
}

// readResponse reads until the response with CSeq cseq, within
// ResponseTimeout. Interleaved frames are delivered, server requests
// answered with 501, stray responses (keepalives) skipped.
func (c *Client) readResponse(cseq int) (*base.Response, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.cfg.ResponseTimeout))
	defer func() { _ = c.nc.SetReadDeadline(time.Time{}) }()
	want := strconv.Itoa(cseq)
	for {
		resp, err := c.readNext()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, fmt.Errorf("%w after %v", ErrResponseTimeout, c.cfg.ResponseTimeout)
			}
			return nil, err
		}
		if resp != nil && resp.Header.Get("CSeq") == want {
			return resp, nil
		}
	}
}

// readLoop reads the connection while Run runs, until it fails.
// Responses are keepalive answers: a 401 renews the challenge for the
// next keepalive.
func (c *Client) readLoop() error {
	for {
		resp, err := c.readNext()
		switch {
		case err != nil:
			return err
		case resp == nil:
		case resp.StatusCode == base.StatusUnauthorized:
			// A new or stale nonce: later keepalives answer it.
			if err := c.onUnauthorized(resp, 0); err != nil {
				c.log.Warn("keepalive refused", "err", err)
			}
		case resp.StatusCode/100 != 2:
			c.log.Debug("keepalive refused", "err", resp.StatusCode)
		}
	}
}

// readNext reads one interleaved frame, server request or response, and
// returns the response, if that is what it read (CLI-24, RTSP-IL-04).
func (c *Client) readNext() (*base.Response, error) {
	b, err := c.br.Peek(5)
	if err != nil {
		if len(b) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch {
	case b[0] == base.InterleavedMagic:
		return nil, c.readFrame()
	case string(b) == "RTSP/":
		var resp base.Response
		if err := resp.Unmarshal(c.br, c.cfg.Limits); err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		return &resp, nil
	}
	return nil, c.answerRequest()
}

// readFrame delivers one interleaved frame straight from the read buffer,
// which holds any frame (ClientConfig.ReadBufferSize), without copying.
// Empty frames are skipped (RTSP-IL-01), frames on channels not set up
// dropped (RTSP-IL-02).
func (c *Client) readFrame() error {
	hdr, err := c.br.Peek(base.InterleavedHeaderSize)
	if err != nil {
		return lex.UnexpectedEOF(err, 1)
	}
	r := c.routes[hdr[1]]
	total := base.InterleavedHeaderSize + int(binary.BigEndian.Uint16(hdr[2:]))
	if r.stream == 0 || total == base.InterleavedHeaderSize {
		_, err := c.br.Discard(total)
		return lex.UnexpectedEOF(err, 1)
	}
	frame, err := c.br.Peek(total)
	if err != nil {
		return fmt.Errorf("read interleaved frame: %w", lex.UnexpectedEOF(err, 1))
	}
	var bye error
	if pkt := frame[base.InterleavedHeaderSize:]; r.rtcp || base.IsRTCP(pkt) {
		bye = c.onRTCP(r.stream-1, pkt, c.src.at)
	} else {
		c.onRTP(r.stream-1, pkt, c.src.at)
	}
	_, _ = c.br.Discard(total) // cannot fail: the bytes are buffered
	return bye
}

// answerRequest reads a server-initiated request and answers it: REDIRECT
// (RTSP-M-39) with 200, after which it returns the *redirect, anything
// else with 501 (CLI-24).
func (c *Client) answerRequest() error {
	var req base.Request
	if err := req.Unmarshal(c.br, c.cfg.Limits); err != nil {
		return fmt.Errorf("read server request: %w", err)
	}
	status := base.StatusNotImplemented
	var r *redirect
	if req.Method == base.MethodRedirect {
		r, status = c.redirectRequest(&req)
	}
	if err := c.answer(&req, status); err != nil {
		return err
	}
	if r != nil {
		return r
	}
	return nil
}

// answer writes the response to a server request.
func (c *Client) answer(req *base.Request, status int) error {
	resp := base.Response{StatusCode: status, Header: base.Header{}}
	resp.Header.Set("CSeq", req.Header.Get("CSeq"))
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	if err := c.write(b); err != nil {
		return fmt.Errorf("answer server request: %w", err)
	}
	return nil
}

// write writes b to the connection under the write lock, within
// ResponseTimeout.
func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.ResponseTimeout))
	_, err := c.nc.Write(b)
	return err
}
