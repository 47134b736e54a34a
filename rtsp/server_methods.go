package rtsp

import (
	"errors"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// handleOptions answers 200 with Public in any state (RTSP-M-01); a
// Session header makes it a keepalive (RTSP-M-02).
func (c *conn) handleOptions(req *base.Request) (*base.Response, error) {
	if _, err := c.requestSession(req); err != nil {
		return nil, err
	}
	h := base.Header{}
	h.Set("Public", publicMethods)
	return &base.Response{StatusCode: base.StatusOK, Header: h}, nil
}

// handleAnnounce checks the body (RTSP-M-09), asks the Handler for a
// publication and keeps it on the connection until SETUP (RTSP-M-10/11).
func (c *conn) handleAnnounce(req *base.Request) (*base.Response, error) {
	if err := checkAnnounceBody(req); err != nil {
		return nil, err
	}
	ss := c.knownSession(req) // a Session header is tolerated (RTSP-M-10)
	st := c.connState()
	if ss != nil {
		st = ss.getState()
	}
	if _, err := next(st, evAnnounce); err != nil { // RTSP-M-12
		return nil, err
	}
	path, err := announcePath(req.URL)
	if err != nil {
		return nil, err
	}
	pub, err := c.srv.cfg.Handler.Announce(c.ctx, &AnnounceRequest{
		Path: path, SDP: req.Body, Peer: c.peer, User: c.user, UserAgent: req.Header.Get("User-Agent"),
	})
	if err != nil {
		return nil, err
	}
	controls := slices.Clone(pub.Controls())
	if len(controls) == 0 || len(controls) > 128 {
		closePublication(pub, ErrTeardown, c.log)
		return nil, base.NewError(base.StatusUnsupportedMediaType, "publication has no usable media", nil)
	}
	c.pending = &announcement{pub: pub, user: c.user, url: req.URL, path: path, controls: controls}
	c.log.Debug("rtsp announce", "path", path, "streams", len(controls))
	return &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}, nil
}

// checkAnnounceBody requires Content-Length (411), Content-Type
// application/sdp (415) and a non-empty body (400) (RTSP-M-09).
func checkAnnounceBody(req *base.Request) error {
	if !req.Header.Has("Content-Length") {
		return base.NewError(base.StatusLengthRequired, "announce without content-length", nil)
	}
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/sdp" {
		return base.NewError(base.StatusUnsupportedMediaType, "announce content-type", err)
	}
	if len(req.Body) == 0 {
		return base.NewError(base.StatusBadRequest, "empty sdp", nil)
	}
	return nil
}

// announcePath returns the path passed to the Handler: percent-decoded,
// without leading or trailing "/", query stripped. Encoded separators and
// control characters are refused (SEC-04).
func announcePath(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "*" {
		return "", base.NewError(base.StatusBadRequest, "bad announce url", err)
	}
	low := strings.ToLower(u.EscapedPath())
	if strings.Contains(low, "%2f") || strings.Contains(low, "%5c") || lex.HasCTL([]byte(u.Path)) {
		return "", base.NewError(base.StatusBadRequest, "bad characters in path", nil)
	}
	p := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	if p == "" {
		return "", base.NewError(base.StatusBadRequest, "empty path", nil)
	}
	return p, nil
}

// cmpErr returns err, or alt when err is nil.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// handlePause: a play session pauses (server_play.go), a record session
// goes back to ready-record (RTSP-M-27).
func (c *conn) handlePause(req *base.Request) (*base.Response, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil, err
	}
	st, err := c.transition(ss, evPause)
	if err != nil || ss == nil {
		return nil, cmpErr(err, base.NewError(base.StatusSessionNotFound, "no session", nil))
	}
	if ss.pres.play != nil {
		return c.pausePlay(req, ss, st)
	}
	ss.setState(st, time.Now())
	return sessionResponse(ss), nil
}

// transition checks event e against the session's state, or the
// connection's when there is no session.
func (c *conn) transition(ss *session, e event) (sessionState, error) {
	if ss == nil {
		return next(c.connState(), e)
	}
	return next(ss.getState(), e)
}

// handleRecord starts recording once every stream is set up (RTSP-M-30).
// Range is informational and ignored (RTSP-M-31).
func (c *conn) handleRecord(req *base.Request) (*base.Response, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil, err
	}
	st, err := c.transition(ss, evRecord)
	if err != nil || ss == nil {
		return nil, cmpErr(err, base.NewError(base.StatusSessionNotFound, "no session", nil))
	}
	if !ss.allSetup() {
		return nil, base.NewError(base.StatusMethodNotValidInThisState, "not every stream is set up", nil)
	}
	if !ss.recorded { // Record is called once, even after PAUSE (RTSP-M-27)
		if err := ss.pub.Record(RecordInfo{TCP: ss.tcp}); err != nil {
			return nil, err
		}
		ss.recorded = true
		ss.log.Info("rtsp session recording", "streams", len(ss.streams))
	}
	ss.setState(st, time.Now())
	return sessionResponse(ss), nil
}

// handleTeardown ends the session, or drops an announced publication, and
// keeps the connection open (RTSP-M-34/35). The response has no Session.
func (c *conn) handleTeardown(req *base.Request) (*base.Response, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		if c.teardownOfEnded(req) {
			return &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}, nil
		}
		return nil, err
	}
	if ss == nil {
		if c.pending == nil {
			return nil, base.NewError(base.StatusSessionNotFound, "no session", nil)
		}
		closePublication(c.pending.pub, ErrTeardown, c.log)
		c.pending = nil
		return &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}, nil
	}
	if ss.pres.play != nil {
		if err := ss.checkAggregate(req.URL); err != nil {
			return nil, err
		}
	}
	c.releaseChannels(ss)
	if ss.pres.play == nil && !ss.tcp && ss.recorded {
		// The publisher's last datagrams may still be on their way, or
		// queued in the UDP socket behind a reader short of CPU: take
		// what arrives within the linger, then close once the reader has
		// read it all.
		ss.tornDown = true
		time.AfterFunc(c.srv.cfg.UDPTeardownLinger, func() {
			c.srv.udp.afterQueued(func() { go ss.close(ErrTeardown) })
		})
		return &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}, nil
	}
	ss.close(ErrTeardown)
	return &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}, nil
}

// handleParameter answers GET_PARAMETER and SET_PARAMETER. An empty body is
// a keepalive: 200 (RTSP-M-36, RTSP-M-38). No parameter is known, so any
// named one gets 451 with the names in the body (RTSP-M-37).
func (c *conn) handleParameter(req *base.Request) (*base.Response, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil, err
	}
	names := parameterNames(req.Body)
	if len(names) == 0 {
		return sessionResponse(ss), nil
	}
	resp := sessionResponse(ss)
	resp.StatusCode = base.StatusParameterNotUnderstood
	resp.Header.Set("Content-Type", "text/parameters")
	resp.Body = []byte(strings.Join(names, "\r\n") + "\r\n")
	return resp, nil
}

// parameterNames returns the names of a text/parameters body ("name" or
// "name: value" per line), at most 32.
func parameterNames(body []byte) []string {
	var names []string
	for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
		name, _, _ := strings.Cut(line, ":")
		if name = strings.TrimSpace(name); lex.IsToken(name) && len(names) < 32 {
			names = append(names, name)
		}
	}
	return names
}

var errNoTransport = errors.New("no acceptable transport")
