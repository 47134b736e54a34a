package rtsp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// clientUserAgent is sent with every request.
const clientUserAgent = "camvault"

// clientAuth is the challenge a client answers on every request after
// the first 401 (RTSP-AUTH-11). Guarded by Client.wmu.
type clientAuth struct {
	ch     auth.Challenge
	nc     uint32
	cnonce string
}

// send writes one request with CSeq, Session, Authorization and
// User-Agent, under a write deadline, and returns its CSeq.
func (c *Client) send(m base.Method, uri string, h base.Header, timeout time.Duration) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.cseq++
	req := base.Request{Method: m, URL: uri, Header: base.Header{}}
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
	c.log.Debug("request sent", "path", base.RedactURL(uri), "method", string(m))
	return c.cseq, nil
}

// do sends a request and waits for its response, answering 401 with the
// configured credentials once, and again when the nonce went stale
// (RTSP-AUTH-09). A 301 or 302 answer is a *redirect error. Only the
// handshake calls it, never while Run reads.
func (c *Client) do(m base.Method, uri string, h base.Header) (*base.Response, error) {
	for attempt := 0; ; attempt++ {
		cseq, err := c.send(m, uri, h, c.cfg.ResponseTimeout)
		if err != nil {
			return nil, err
		}
		resp, err := c.readResponse(cseq)
		if err != nil {
			return nil, fmt.Errorf("wait for %s response: %w", m, err)
		}
		if resp.StatusCode == base.StatusMovedPermanently || resp.StatusCode == base.StatusMovedTemporarily {
			return nil, c.movedAnswer(m, uri, resp)
		}
		if resp.StatusCode != base.StatusUnauthorized {
			return resp, nil
		}
		if err := c.onUnauthorized(resp, attempt); err != nil {
			return nil, fmt.Errorf("%s %s: %w", m, base.RedactURL(uri), err)
		}
	}
}

// onUnauthorized decides whether a 401 may be retried: the first one when
// credentials are configured, later ones only with stale=TRUE.
func (c *Client) onUnauthorized(resp *base.Response, attempt int) error {
	if c.user == "" && c.pass == "" {
		return fmt.Errorf("camera requires credentials: %w", ErrAuthFailed)
	}
	cs, err := auth.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return fmt.Errorf("www-authenticate: %w", err)
	}
	ch, ok := auth.PickChallenge(cs)
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
