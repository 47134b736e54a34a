package rtsp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// RedirectError is the error a Handler (Announce, Describe) or a
// Presentation (Play) returns to send its client to another server: the
// server answers 301 Moved Permanently or 302 Moved Temporarily with a
// Location header (RFC 2326 §11.3.2, RTSP-M-08). The Handler returns it
// only after it checked the user's right to the path, like any answer
// that tells whether a camera exists: the server has then already refused
// bad credentials with 401 (identify runs before every handler), but an
// anonymous request reaches the Handler, whose decision it is. A PLAY
// answered with a redirect leaves its session to the client's TEARDOWN
// for Config.RedirectGrace, as a REDIRECT request does, and then ends it
// with ErrRedirected: GStreamer follows a 302 to PLAY by tearing the old
// session down first, and fails on a 454 if it is already gone.
type RedirectError struct {
	// Location is where the client goes: an absolute rtsp:// or rtsps://
	// URL with a host, without userinfo or fragment, of printable ASCII
	// and at most Limits.MaxURL bytes. The server answers 500 (and logs
	// why) rather than send any other value, so credentials can only
	// reach it if the Handler put them there, and that is refused too.
	Location string
	// Permanent selects 301 Moved Permanently; false gives 302 Moved
	// Temporarily, the answer for a camera whose owner may change again.
	Permanent bool
	// Err says why, for the server's log; it is never sent.
	Err error
}

// Error implements error. The location is logged without userinfo.
func (e *RedirectError) Error() string {
	s := "redirect to " + base.RedactURL(e.Location)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *RedirectError) Unwrap() error { return e.Err }

// status is 301 or 302.
func (e *RedirectError) status() int {
	if e.Permanent {
		return base.StatusMovedPermanently
	}
	return base.StatusMovedTemporarily
}

// ErrRedirected is the reason a play session ends with after its client
// was sent elsewhere, by a PLAY answered 301 or 302 (RedirectError) or a
// REDIRECT request (Redirector), and did not tear it down within
// Config.RedirectGrace. A client that does tear down ends its session
// with ErrTeardown.
var ErrRedirected = errors.New("redirected")

// errRedirectSent is returned by Redirect for a session already told to
// go elsewhere.
var errRedirectSent = errors.New("rtsp redirect: already sent to this session")

// ErrBadLocation is returned (wrapped) by Redirector.Redirect, and logged
// for a RedirectError, when the location is not one the server sends
// (RedirectError.Location).
var ErrBadLocation = errors.New("bad redirect location")

// checkLocation returns loc if it is an absolute rtsp or rtsps URL with a
// host and a valid port, without userinfo, fragment, control characters
// or blanks, of at most maxLen bytes.
func checkLocation(loc string, maxLen int) (string, error) {
	if loc == "" || len(loc) > maxLen {
		return "", fmt.Errorf("%w: length %d", ErrBadLocation, len(loc))
	}
	for i := 0; i < len(loc); i++ {
		if loc[i] <= ' ' || loc[i] > '~' {
			return "", fmt.Errorf("%w: byte %#x at %d", ErrBadLocation, loc[i], i)
		}
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadLocation, err)
	}
	switch {
	case !strings.EqualFold(u.Scheme, "rtsp") && !strings.EqualFold(u.Scheme, "rtsps"):
		return "", fmt.Errorf("%w: scheme %q", ErrBadLocation, u.Scheme)
	case u.Opaque != "" || u.Hostname() == "":
		return "", fmt.Errorf("%w: no host", ErrBadLocation)
	case u.User != nil:
		return "", fmt.Errorf("%w: userinfo", ErrBadLocation)
	case u.Fragment != "" || strings.Contains(loc, "#"):
		return "", fmt.Errorf("%w: fragment", ErrBadLocation)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%w: port %q", ErrBadLocation, p)
		}
	}
	return loc, nil
}

// redirectOf returns the RedirectError in err and its checked location.
// A RedirectError with a bad location is logged and reported as not a
// redirect, so that it becomes a 500.
func (c *conn) redirectOf(err error) (*RedirectError, string, bool) {
	r, ok := errors.AsType[*RedirectError](err)
	if !ok {
		return nil, "", false
	}
	loc, lerr := checkLocation(r.Location, c.srv.cfg.Limits.MaxURL)
	if lerr != nil {
		c.log.Warn("rtsp redirect refused", "err", lerr)
		return nil, "", false
	}
	return r, loc, true
}

// redirectResponse turns resp into the 301 or 302 of a RedirectError in
// err, if err holds one with a good location; it reports whether it did.
func (c *conn) redirectResponse(resp *base.Response, err error) bool {
	r, loc, ok := c.redirectOf(err)
	if !ok {
		return false
	}
	resp.StatusCode = r.status()
	resp.Reason = ""
	resp.Header.Set("Location", loc)
	c.srv.countRedirect(false)
	return true
}

// playRedirected starts the redirect grace of a session whose PLAY is
// answered with a redirect.
func (c *conn) playRedirected(ss *session, err error) {
	r, ok := errors.AsType[*RedirectError](err)
	if !ok {
		return
	}
	if _, err := checkLocation(r.Location, c.srv.cfg.Limits.MaxURL); err == nil {
		_ = ss.markRedirected(time.Now()) // already redirected: its grace runs
	}
}

// Redirector sends a play session's client elsewhere with a REDIRECT
// request (RFC 2326 §10.10, RTSP-M-39): PlayRequest.Redirect. It is safe
// for concurrent use and valid until the Presentation is closed.
type Redirector interface {
	// Redirect sends "REDIRECT <session URL> RTSP/1.0" with the
	// connection's next CSeq, Session, Location and, when rng is not nil,
	// Range (when the move takes effect) on the session's control
	// connection (through its HTTP or WebSocket tunnel, if any). Media
	// keeps flowing until the client sends TEARDOWN (the session then ends
	// with ErrTeardown) or Config.RedirectGrace has passed since the
	// request was queued (ErrRedirected; the connection is closed unless
	// it carries another session). Whatever the client answers is read and
	// ignored. A client may ignore the request altogether: most players
	// do (ffmpeg answers 501). It returns an error wrapping ErrBadLocation
	// for a location RedirectError.Location would refuse,
	// ErrSessionClosed after the session ended, an error if the session
	// was already redirected, and the connection's error if the request
	// could not be queued. It blocks while the connection's response
	// queue is full, at most about Config.WriteTimeout.
	Redirect(location string, rng *headers.Range) error
}

// sessionRedirector implements Redirector for one session.
type sessionRedirector struct{ ss *session }

// Redirect implements Redirector.
func (r sessionRedirector) Redirect(location string, rng *headers.Range) error {
	ss := r.ss
	c := ss.owner
	loc, err := checkLocation(location, c.srv.cfg.Limits.MaxURL)
	if err != nil {
		return err
	}
	h := base.Header{}
	h.Set("Session", ss.id)
	h.Set("Location", loc)
	if rng != nil {
		v := rng.Marshal()
		if v == "" {
			return errors.New("rtsp redirect: empty range")
		}
		h.Set("Range", v)
	}
	if err := ss.markRedirected(time.Now()); err != nil {
		return err
	}
	if err := c.request(base.MethodRedirect, base.RedactURL(ss.pres.url), h, ss); err != nil {
		return fmt.Errorf("rtsp redirect: %w", err)
	}
	c.srv.countRedirect(true)
	ss.log.Info("rtsp session redirected", "location", loc, "dur", c.srv.cfg.RedirectGrace)
	return nil
}

// markRedirected starts the session's redirect grace at now, once.
func (ss *session) markRedirected(now time.Time) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch {
	case ss.closed:
		return ErrSessionClosed
	case !ss.redirectAt.IsZero():
		return errRedirectSent
	}
	ss.redirectAt = now
	return nil
}

// redirectExpired reports whether the session's redirect grace is over
// at now. ss.mu must be held.
func (ss *session) redirectExpired(now time.Time) bool {
	return !ss.redirectAt.IsZero() && now.Sub(ss.redirectAt) >= ss.srv.cfg.RedirectGrace
}
