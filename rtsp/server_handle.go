package rtsp

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// rfc1123 is the Date header layout (RTSP-MSG-07).
const rfc1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// handle answers one parsed request.
func (c *conn) handle(req *base.Request) *base.Response {
	resp, err := c.precheck(req)
	if err == nil && resp == nil {
		err = c.identify(req)
	}
	if err == nil && resp == nil {
		resp, err = c.dispatch(req)
	}
	if err != nil {
		resp = c.errorResponse(req, err)
	}
	return resp
}

// dispatch calls the handler of the method. Each handler returns a
// response or an error that errorResponse maps to a status.
func (c *conn) dispatch(req *base.Request) (*base.Response, error) {
	switch req.Method {
	case base.MethodOptions:
		return c.handleOptions(req)
	case base.MethodDescribe:
		return c.handleDescribe(req)
	case base.MethodAnnounce:
		return c.handleAnnounce(req)
	case base.MethodSetup:
		return c.handleSetup(req)
	case base.MethodPlay:
		return c.handlePlay(req)
	case base.MethodPause:
		return c.handlePause(req)
	case base.MethodRecord:
		return c.handleRecord(req)
	case base.MethodTeardown:
		return c.handleTeardown(req)
	case base.MethodGetParameter, base.MethodSetParameter:
		return c.handleParameter(req)
	case base.MethodRedirect: // server-to-client only (RTSP-M-39)
		return nil, base.NewError(base.StatusMethodNotAllowed, "redirect from client", nil)
	default:
		return nil, base.NewError(base.StatusNotImplemented, "unknown method", nil)
	}
}

// precheck applies the rules every request passes before its method
// handler: version (RTSP-MSG-02), CSeq (RTSP-MSG-05), Request-URI
// (RTSP-MSG-01), Require (RTSP-OPT-01) against the presentation of the
// request's play session, if any.
func (c *conn) precheck(req *base.Request) (*base.Response, error) {
	if req.Proto != base.ProtoRTSP10 {
		return nil, base.NewError(base.StatusRTSPVersionNotSupported, req.Proto, nil)
	}
	if !validCSeq(req.Header.Get("CSeq")) {
		return nil, base.NewError(base.StatusBadRequest, "missing or bad cseq", nil)
	}
	if err := checkURLForMethod(req); err != nil {
		return nil, err
	}
	if req.Method == base.MethodDescribe || req.Method == base.MethodSetup {
		return nil, nil // checked against the presentation they are for
	}
	return nil, checkRequire(req.Header, c.sessionPresentation(req))
}

func validCSeq(v string) bool { return lex.AllDigits(v) && len(v) <= 10 }

// checkURLForMethod accepts "*" only where RFC 2326 allows it and rtsp or
// rtsps URLs; rtspu gets 501 (RTSP-MSG-02).
func checkURLForMethod(req *base.Request) error {
	if req.URL == "*" {
		switch req.Method {
		case base.MethodOptions, base.MethodGetParameter, base.MethodSetParameter:
			return nil
		}
		return base.NewError(base.StatusBadRequest, "* not valid for "+string(req.Method), nil)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return base.NewError(base.StatusBadRequest, "bad url", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "rtsp", "rtsps":
		return nil
	case "rtspu":
		return base.NewError(base.StatusNotImplemented, "rtspu", nil)
	}
	return base.NewError(base.StatusBadRequest, "url scheme "+u.Scheme, nil)
}

// errorResponse maps a handler error to its response, in one place:
// *Error gives the status, *RedirectError 301 or 302 with Location,
// anything else is 500. 405 and 455 list the
// methods valid in the current state (RTSP-M-40, [2326 §11.3.6]).
func (c *conn) errorResponse(req *base.Request, err error) *base.Response {
	resp := &base.Response{StatusCode: base.StatusInternalServerError, Header: base.Header{}}
	if e, ok := errors.AsType[*base.Error](err); ok && e.Status >= 300 {
		resp.StatusCode = e.Status
		if printablePhrase(e.Phrase) {
			resp.Reason = e.Phrase
		}
	}
	c.redirectResponse(resp, err) // RedirectError: 301 or 302 with Location
	if u, ok := errors.AsType[*unsupportedTags](err); ok {
		resp.Header.Set("Unsupported", strings.Join(u.tags, ", ")) // RTSP-OPT-01
	}
	switch {
	case resp.StatusCode >= 500 && resp.StatusCode != base.StatusNotImplemented && resp.StatusCode != base.StatusRTSPVersionNotSupported &&
		resp.StatusCode != base.StatusOptionNotSupported:
		if ok, n := c.srv.failedLog.allow(time.Now()); ok {
			c.log.Warn("rtsp request failed", "method", string(req.Method), "status", resp.StatusCode, "err", err, "suppressed", n)
		}
	default:
		c.log.Debug("rtsp request refused", "method", string(req.Method), "status", resp.StatusCode, "err", err)
	}
	c.challenge(resp, err)
	if resp.StatusCode == base.StatusMethodNotAllowed || resp.StatusCode == base.StatusMethodNotValidInThisState {
		resp.Header.Set("Allow", allowedMethods(c.stateFor(req)))
	}
	return resp
}

// finish adds the headers every response carries: CSeq echoed verbatim,
// Server, Date (RTSP-MSG-07) and Timestamp echoed (RTSP-OPT-03).
func (c *conn) finish(req *base.Request, resp *base.Response) {
	if resp.Header == nil {
		resp.Header = base.Header{}
	}
	if cseq := req.Header.Get("CSeq"); validCSeq(cseq) {
		resp.Header.Set("CSeq", cseq)
	}
	resp.Header.Set("Server", c.srv.cfg.ServerName)
	resp.Header.Set("Date", time.Now().UTC().Format(rfc1123))
	if ts, ok := req.Header.Lookup("Timestamp"); ok {
		resp.Header.Set("Timestamp", ts)
	}
}

// requestSession returns the session named by the Session header, nil if
// there is none, or 454 if it is unknown, ended or owned by another
// connection (RTSP-SES-07, SEC-08). A found session is refreshed.
func (c *conn) requestSession(req *base.Request) (*session, error) {
	id, ok, err := sessionID(req)
	if err != nil {
		return nil, base.NewError(base.StatusSessionNotFound, "bad session header", err)
	}
	if !ok {
		return nil, nil
	}
	ss := c.srv.lookupSession(id)
	if ss == nil || ss.owner != c || ss.isClosed() {
		return nil, base.NewError(base.StatusSessionNotFound, "unknown session", nil)
	}
	ss.touch(time.Now())
	return ss, nil
}

// sessionID returns the session id the request's Session header names: ok is
// false without the header, err is set for a malformed one.
func sessionID(req *base.Request) (id string, ok bool, err error) {
	v, ok := req.Header.Lookup("Session")
	if !ok {
		return "", false, nil
	}
	var sh headers.Session
	if err := sh.Unmarshal(v); err != nil {
		return "", false, err
	}
	return sh.ID, true, nil
}

// knownSession is requestSession for requests where a bad or unknown
// Session header is tolerated: it returns nil then.
func (c *conn) knownSession(req *base.Request) *session {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil // tolerated by the caller's contract
	}
	return ss
}

// connState is the state of a request without a session.
func (c *conn) connState() sessionState {
	if c.pending != nil {
		return stateAnnounced
	}
	return stateInit
}

// stateFor is the state a request applies to, for the Allow header.
func (c *conn) stateFor(req *base.Request) sessionState {
	if id, ok, _ := sessionID(req); ok {
		if ss := c.srv.lookupSession(id); ss != nil && ss.owner == c {
			return ss.getState()
		}
	}
	return c.connState()
}

// sessionResponse is a 200 carrying the Session header (RTSP-SES-03).
func sessionResponse(ss *session) *base.Response {
	h := base.Header{}
	if ss != nil {
		h.Set("Session", ss.id)
	}
	return &base.Response{StatusCode: base.StatusOK, Header: h}
}

// printablePhrase reports a non-empty reason phrase of printable ASCII
// (SEC-10: nothing from a handler may split the response).
func printablePhrase(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
