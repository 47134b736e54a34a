package rtsp

import (
	"errors"
	"net/netip"
	"time"

	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// Access authenticates the requests of a Server (RTSP-AUTH-01..12). The
// server identifies the sender of every request that carries credentials
// and hands the user name to the Handler (AnnounceRequest.User,
// DescribeRequest.User), which decides what that user, or an anonymous
// client, may do: a Handler refusal with status 401 gets the challenges of
// Auth. Requests without credentials are anonymous; requests on a session
// need none, the session being bound to its connection (RTSP-SES-07).
type Access struct {
	// Auth checks Authorization headers and builds challenges. Required.
	Auth *auth.Server
	// Credentials knows the users. Required.
	Credentials auth.Credentials
	// Limiter slows addresses that keep failing; nil for none.
	Limiter FailureLimiter
}

// FailureLimiter slows the addresses that keep sending bad credentials
// (RTSP-AUTH-12).
type FailureLimiter interface {
	// Wait returns how long a new attempt from peer must wait.
	Wait(peer netip.Addr, now time.Time) time.Duration
	// Fail records a failed attempt of peer and returns the delay in force.
	Fail(peer netip.Addr, now time.Time) time.Duration
}

// errUnauthorized is the status error of bad credentials; a stale nonce
// wraps ErrStaleNonce so that the challenge says stale=true.
func errUnauthorized(err error) *base.Error {
	return base.NewError(base.StatusUnauthorized, "authentication failed", err)
}

// identify sets c.user from the request's credentials: "" when it has
// none. Bad credentials are a 401 (counted, after the limiter's delay),
// a malformed header a 400. A right Digest response with a stale nonce is
// accepted for a user who holds a session on this connection (clients
// keep one nonce for a whole session, RTSP-AUTH-09), else answered 401
// stale=true.
func (c *conn) identify(req *base.Request) error {
	c.user = ""
	a := c.srv.cfg.Access
	if a == nil || !req.Header.Has("Authorization") {
		return nil
	}
	peer := c.peer.Addr()
	if a.Limiter != nil {
		c.pause(a.Limiter.Wait(peer, time.Now()))
	}
	user, err := a.Auth.Check(c.ctx, req, peer, c.secure, a.Credentials)
	switch {
	case err == nil:
	case errors.Is(err, auth.ErrStaleNonce) && c.holdsSession(user):
	case errors.Is(err, auth.ErrStaleNonce):
		return errUnauthorized(err)
	case errors.Is(err, auth.ErrAuthHeader):
		return base.NewError(base.StatusBadRequest, "bad authorization header", err)
	default:
		if a.Limiter != nil {
			c.pause(a.Limiter.Fail(peer, time.Now()))
		}
		return errUnauthorized(err)
	}
	c.user = user
	return nil
}

// holdsSession reports whether user holds a live session on c.
func (c *conn) holdsSession(user string) bool {
	for _, ss := range c.sessions {
		if ss.pres.user == user && !ss.isClosed() {
			return true
		}
	}
	return false
}

// pause waits d, or until the connection ends.
func (c *conn) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
}

// challenge adds the WWW-Authenticate values to a 401 response.
func (c *conn) challenge(resp *base.Response, err error) {
	a := c.srv.cfg.Access
	if a == nil || resp.StatusCode != base.StatusUnauthorized {
		return
	}
	for _, v := range a.Auth.Challenge(c.peer.Addr(), c.secure, errors.Is(err, auth.ErrStaleNonce)) {
		resp.Header.Add("WWW-Authenticate", v)
	}
}
