package rtsp

import (
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// maxControls bounds the media of one presentation (SEC-03).
const maxControls = 128

var (
	errReplaced   = errors.New("presentation replaced by a newer describe")
	errNoControls = errors.New("presentation has no usable media")
)

// handleDescribe asks the Handler for a presentation and answers its SDP
// (RTSP-M-05..07). The presentation stays on the connection for the SETUPs
// that follow; DESCRIBE never creates a session.
func (c *conn) handleDescribe(req *base.Request) (*base.Response, error) {
	if !headers.AcceptsSDP(req.Header) {
		return nil, base.NewError(base.StatusNotAcceptable, "accept excludes application/sdp", nil)
	}
	dr, err := c.describeRequest(req, req.URL)
	if err != nil {
		return nil, err
	}
	pres, controls, err := c.describe(dr)
	if err != nil {
		return nil, err
	}
	if err := checkRequire(req.Header, pres); err != nil {
		closePresentation(pres, err, c.log)
		return nil, err
	}
	sdp := pres.SDP()
	if len(sdp) == 0 {
		closePresentation(pres, errNoControls, c.log)
		return nil, base.NewError(base.StatusInternalServerError, "presentation without sdp", nil)
	}
	c.addUnused(&announcement{play: pres, user: c.user, url: req.URL, path: dr.Path, controls: controls})
	c.log.Debug("rtsp describe", "path", dr.Path, "streams", len(controls))
	h := base.Header{}
	h.Set("Content-Type", "application/sdp")
	h.Set("Content-Base", contentBase(req.URL))
	return &base.Response{StatusCode: base.StatusOK, Header: h, Body: sdp}, nil
}

// contentBase returns the Content-Base of a DESCRIBE of rawURL: rawURL
// with its path ending in exactly one "/" and any query after that
// (RTSP-URL-01): rtsp://h/archive/cam/?start=T. The relative controls of
// the SDP then name tracks of this presentation whichever way a client
// joins them: RFC 3986 §5.2 (GStreamer) resolves trackID=0 to
// rtsp://h/archive/cam/trackID=0, dropping the query, and ffmpeg, live555
// and gortsplib append "/trackID=0" to the string, giving
// rtsp://h/archive/cam/?start=T/trackID=0; matchTrack accepts both. A "/"
// after the query instead (…/cam?start=T/) makes RFC 3986 drop the last
// path segment: …/archive/trackID=0, outside the presentation.
func contentBase(rawURL string) string {
	path, query, hasQuery := strings.Cut(rawURL, "?")
	path = strings.TrimRight(path, "/") + "/"
	if !hasQuery {
		return path
	}
	return path + "?" + strings.TrimRight(query, "/")
}

// describe calls the Handler and checks the presentation's controls.
func (c *conn) describe(dr *DescribeRequest) (Presentation, []string, error) {
	pres, err := c.srv.cfg.Handler.Describe(c.ctx, dr)
	if err != nil {
		return nil, nil, err
	}
	if pres == nil {
		return nil, nil, base.NewError(base.StatusInternalServerError, "handler returned no presentation", nil)
	}
	controls := slices.Clone(pres.Controls())
	if len(controls) == 0 || len(controls) > maxControls {
		closePresentation(pres, errNoControls, c.log)
		return nil, nil, base.NewError(base.StatusInternalServerError, "presentation has no usable media", errNoControls)
	}
	return pres, controls, nil
}

// describeRequest builds the Handler's request for the presentation at
// baseURL (the DESCRIBE Request-URI, or a SETUP URL without its control).
func (c *conn) describeRequest(req *base.Request, baseURL string) (*DescribeRequest, error) {
	u, err := url.Parse(baseURL)
	if err != nil || baseURL == "*" {
		return nil, base.NewError(base.StatusBadRequest, "bad url", err)
	}
	low := strings.ToLower(u.EscapedPath())
	if strings.Contains(low, "%2f") || strings.Contains(low, "%5c") || lex.HasCTL([]byte(u.Path)) {
		return nil, base.NewError(base.StatusBadRequest, "bad characters in path", nil) // SEC-04
	}
	path := strings.Trim(u.Path, "/")
	if path == "" {
		return nil, base.NewError(base.StatusNotFound, "empty path", nil)
	}
	query, _, _ := strings.Cut(u.RawQuery, "/")
	return &DescribeRequest{
		URL: base.RedactURL(req.URL), Path: path, Query: query, Peer: c.peer, User: c.user,
		UserAgent: req.Header.Get("User-Agent"), Require: headers.RequiredOptions(req.Header),
	}, nil
}

// setupBase returns the presentation URL of a SETUP URL that no DESCRIBE
// covered: without ffmpeg's "/control" after the query, else without a
// last path segment that looks like a control ("trackID=0", "stream=1").
// Otherwise the URL itself (the aggregate URL of a single-stream
// presentation).
func setupBase(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if q, _, ok := strings.Cut(u.RawQuery, "/"); ok {
		u.RawQuery = q
		return u.String()
	}
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 && strings.Contains(p[i+1:], "=") {
		u.Path, u.RawPath = p[:i], ""
		return u.String()
	}
	return raw
}

// presentationFor finds the unused presentation a play SETUP without
// Session designates, or describes one (Handler.Describe).
func (c *conn) presentationFor(req *base.Request) (*announcement, error) {
	if a := c.matchUnused(req.URL); a != nil {
		return a, nil
	}
	baseURL := setupBase(req.URL)
	bu, err := url.Parse(baseURL)
	if err != nil {
		return nil, base.NewError(base.StatusBadRequest, "bad setup url", err)
	}
	for _, a := range slices.Backward(c.unused) {
		if au, err := url.Parse(a.url); err == nil && keyOf(au) == keyOf(bu) {
			return a, nil // known presentation, unknown control: 404 follows
		}
	}
	dr, err := c.describeRequest(req, baseURL)
	if err != nil {
		return nil, err
	}
	pres, controls, err := c.describe(dr)
	if err != nil {
		return nil, err
	}
	a := &announcement{play: pres, user: c.user, url: baseURL, path: dr.Path, controls: controls}
	c.addUnused(a)
	return a, nil
}

// matchUnused returns the newest unused presentation with a stream at
// setupURL (or whose aggregate URL it is).
func (c *conn) matchUnused(setupURL string) *announcement {
	for _, a := range slices.Backward(c.unused) {
		if _, err := matchTrack(a.url, a.controls, setupURL); err == nil || errorStatus(err) == base.StatusAggregateOperationNotAllowed {
			return a
		}
	}
	return nil
}

// addUnused keeps a described presentation for the following SETUPs. An
// older unused one of the same URL is closed, and so is the oldest one
// beyond MaxSessionsPerConnection (SEC-03).
func (c *conn) addUnused(a *announcement) {
	au, _ := url.Parse(a.url) // parsed before: cannot fail
	keep := c.unused[:0]
	for _, old := range c.unused {
		if ou, err := url.Parse(old.url); err == nil && au != nil && keyOf(ou) == keyOf(au) {
			closePresentation(old.play, errReplaced, c.log)
			continue
		}
		keep = append(keep, old)
	}
	clear(c.unused[len(keep):])
	c.unused = append(keep, a)
	for len(c.unused) > c.srv.cfg.MaxSessionsPerConnection {
		closePresentation(c.unused[0].play, errReplaced, c.log)
		c.unused = slices.Delete(c.unused, 0, 1)
	}
}

// takeUnused removes a presentation that a session now owns.
func (c *conn) takeUnused(a *announcement) {
	if i := slices.Index(c.unused, a); i >= 0 {
		c.unused = slices.Delete(c.unused, i, i+1)
	}
}

// closeUnused closes the presentations that never got a session.
func (c *conn) closeUnused(reason error) {
	for _, a := range c.unused {
		closePresentation(a.play, reason, c.log)
	}
	c.unused = nil
}

// errorStatus returns the status of an *Error, or 0.
func errorStatus(err error) int {
	if e, ok := errors.AsType[*base.Error](err); ok {
		return e.Status
	}
	return 0
}

// unsupportedTags is the cause of a 551: errorResponse lists the tags in
// Unsupported (RTSP-OPT-01).
type unsupportedTags struct{ tags []string }

func (u *unsupportedTags) Error() string { return "unsupported option " + strings.Join(u.tags, ", ") }

// checkRequire refuses with 551 the Require and Proxy-Require tags that
// pres does not support; a nil pres (push, no presentation) supports none.
func checkRequire(h base.Header, pres Presentation) error {
	var supports func(string) bool
	if pres != nil {
		supports = pres.Supports
	}
	if tags := headers.UnsupportedOptions(h, supports); len(tags) > 0 {
		return base.NewError(base.StatusOptionNotSupported, "unsupported option", &unsupportedTags{tags})
	}
	return nil
}

// sessionPresentation returns the presentation of the play session named
// by the request's Session header, or nil.
func (c *conn) sessionPresentation(req *base.Request) Presentation {
	id, ok, _ := sessionID(req)
	if !ok {
		return nil
	}
	ss := c.srv.lookupSession(id)
	if ss == nil || ss.owner != c || ss.pres.play == nil {
		return nil
	}
	return ss.pres.play
}
