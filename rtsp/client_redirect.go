package rtsp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// maxClientRedirects is the most ClientConfig.MaxRedirects may be.
const maxClientRedirects = 100

// Redirect errors of the client.
var (
	// ErrTooManyRedirects is returned by Dial and Run when the server
	// sent the client elsewhere more than ClientConfig.MaxRedirects times
	// in a row (a loop, or redirects without media in between).
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrBadRedirect is returned when a 301 or 302 has no usable Location:
	// none, unparsable, no host, or a scheme other than rtsp (rtsps
	// targets are refused too: the client has no TLS). A REDIRECT request
	// with such a Location is answered 400 and otherwise ignored.
	ErrBadRedirect = errors.New("bad redirect location")
	// ErrRedirectMedia is returned by Run when the server a REDIRECT
	// moved it to describes other media (their number or clock rates):
	// the caller's tracks no longer fit.
	ErrRedirectMedia = errors.New("redirect target describes other media")
)

// ClientRedirect is a move of a playing client to another server, after a
// REDIRECT request (ClientConfig.OnRedirect).
type ClientRedirect struct {
	// From and To are the URLs played before and after, without userinfo.
	From, To string
	// Range is the REDIRECT's Range header (when the move applies), "" if
	// it had none. The client moves at once whatever it says.
	Range string
}

// credentials are the user name and password of a client.
type credentials struct {
	user, pass string
	host       string // where they came from (hostPort of ClientConfig.URL)
}

// credentialsOf returns the configured credentials, else those of u.
func credentialsOf(cfg ClientConfig, u *url.URL) credentials {
	cr := credentials{host: hostPort(u)}
	switch {
	case cfg.Username != "" || cfg.Password != "":
		cr.user, cr.pass = cfg.Username, cfg.Password
	case u.User != nil:
		cr.user = u.User.Username()
		cr.pass, _ = u.User.Password()
	}
	return cr
}

// hostPort returns u's host and port, 554 when it has none, lower case.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "554"
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// useCredentials sets the credentials sent to u: none on another host
// than the configured URL's, unless ClientConfig.RedirectCredentials.
func (c *Client) useCredentials(u *url.URL) {
	c.user, c.pass = c.cred.user, c.cred.pass
	if hostPort(u) != c.cred.host && !c.cfg.RedirectCredentials {
		c.user, c.pass = "", ""
	}
}

// connect plays u, following redirects while *hops stays within
// MaxRedirects.
func (c *Client) connect(ctx context.Context, u *url.URL, hops *int) error {
	for {
		next, err := c.dialOnce(ctx, u)
		if err != nil || next == nil {
			return err
		}
		if err := c.hop(u, next, hops); err != nil {
			return err
		}
		u = next
	}
}

// hop counts one redirect from u to next, failing beyond MaxRedirects.
func (c *Client) hop(u, next *url.URL, hops *int) error {
	if *hops >= max(c.cfg.MaxRedirects, 0) {
		return fmt.Errorf("%s redirected to %s: %w (%d)", base.RedactURL(u.String()), next, ErrTooManyRedirects, c.cfg.MaxRedirects)
	}
	*hops++
	c.log.Info("camera redirected", "path", base.RedactURL(u.String()), "location", next.String())
	return nil
}

// redirect is where a server sent the client: a 301 or 302 answer to
// method, or a REDIRECT request (status 0). It travels as an error from
// the request or read that met it to connect or Run.
type redirect struct {
	method base.Method
	status int
	target *url.URL // without userinfo
	rng    string   // Range of a REDIRECT request
}

func (r *redirect) Error() string {
	if r.status == 0 {
		return "redirect request to " + r.target.String()
	}
	return fmt.Sprintf("%s answered %d, location %s", r.method, r.status, r.target)
}

// redirectTarget resolves a Location against the URL of the request it
// answers: an rtsp URL with a host, userinfo and fragment dropped.
func redirectTarget(reqURL, location string) (*url.URL, error) {
	location = strings.TrimSpace(location)
	b, err := url.Parse(reqURL)
	if err != nil || location == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadRedirect, truncate(location, 64))
	}
	u, err := b.Parse(location)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadRedirect, truncate(base.RedactURL(location), 64))
	}
	if u.Scheme != "rtsp" {
		return nil, fmt.Errorf("%w: scheme %q", ErrBadRedirect, truncate(u.Scheme, 16))
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u, nil
}

// movedAnswer returns the *redirect of a 301 or 302 answer to m at uri.
func (c *Client) movedAnswer(m base.Method, uri string, resp *base.Response) error {
	target, err := redirectTarget(uri, resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("%s %s answered %d: %w", m, base.RedactURL(uri), resp.StatusCode, err)
	}
	return &redirect{method: m, status: resp.StatusCode, target: target}
}

// redirectRequest checks a REDIRECT request from the server and returns
// what to follow and the status to answer: 200, or 400 without a usable
// Location, or 454 for another session's REDIRECT (both then ignored).
func (c *Client) redirectRequest(req *base.Request) (*redirect, int) {
	c.wmu.Lock()
	session := c.session
	c.wmu.Unlock()
	if s, ok := req.Header.Lookup("Session"); ok && session != "" {
		if id, _, _ := strings.Cut(s, ";"); strings.TrimSpace(id) != session {
			return nil, base.StatusSessionNotFound
		}
	}
	cur := ""
	if c.url != nil {
		cur = c.url.String()
	}
	target, err := redirectTarget(cmpStr(cur, req.URL), req.Header.Get("Location"))
	if err != nil {
		c.log.Warn("camera redirect ignored", "err", err)
		return nil, base.StatusBadRequest
	}
	return &redirect{method: base.MethodRedirect, target: target, rng: req.Header.Get("Range")}, base.StatusOK
}

// cmpStr returns a, or b when a is empty.
func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// move follows a REDIRECT request while playing (RTSP-M-39): TEARDOWN
// and close, then play at the target with media like the current one.
func (c *Client) move(ctx context.Context, r *redirect, hops *int) error {
	from := c.url
	if err := c.hop(from, r.target, hops); err != nil {
		return err
	}
	rates := make([]uint32, len(c.streams))
	for i, s := range c.streams {
		rates[i] = s.clockRate
	}
	_ = c.teardown() // the old server may be gone already: nothing to do
	if err := c.connect(ctx, r.target, hops); err != nil {
		return fmt.Errorf("follow redirect: %w", err)
	}
	if !sameMedia(rates, c.streams) {
		return fmt.Errorf("%s: %w", c.url, ErrRedirectMedia)
	}
	c.log.Info("camera moved", "path", from.String(), "location", c.url.String())
	if c.cfg.OnRedirect != nil {
		c.cfg.OnRedirect(ClientRedirect{From: from.String(), To: c.url.String(), Range: r.rng})
	}
	return nil
}

// sameMedia reports whether streams have the clock rates rates.
func sameMedia(rates []uint32, streams []*clientStream) bool {
	if len(rates) != len(streams) {
		return false
	}
	for i, s := range streams {
		if s.clockRate != rates[i] {
			return false
		}
	}
	return true
}
