package rtsp

import (
	"bufio"
	"errors"
	"log/slog"
	"time"

	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/tunnel"
)

// What carries a connection, besides plain RTSP and RTSPS.
const (
	tunnelHTTP      = "http"      // RTSP over HTTP: a GET and a POST (RTSP-HT-01..07)
	tunnelWebSocket = "websocket" // RTSP over WebSocket, subprotocol rtsp.onvif.org
)

// errNoGet: a POST not paired within Config.TunnelTimeout: its GET did not
// come (or was gone), or the tunnel's current POST did not end.
var errNoGet = errors.New("tunnel post not paired in time")

// tunnelLogInterval is the least time between two warnings about refused
// tunnels: a peer that provokes them in a loop costs a counter.
const tunnelLogInterval = time.Second

// httpStart reports whether b, the first four bytes of a connection, begin
// an HTTP GET or POST rather than an RTSP request (RTSP-HT-01): no RTSP
// method is POST, and GET_PARAMETER has no space after GET.
func httpStart(b []byte) bool { return string(b) == "GET " || string(b) == "POST" }

// openTunnel looks at the first bytes of a connection that may begin with
// a tunnel request and serves it: a GET makes c the tunnel's RTSP
// connection, a POST gives its body to its GET's tunnel and waits for the
// end of its part. It reports whether c goes on as an RTSP connection: a
// tunnel GET, or no HTTP request at all.
func (c *conn) openTunnel() bool {
	c.setReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
	if _, err := c.br.Peek(1); err != nil {
		return false
	}
	c.setReadDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout))
	if b, err := c.br.Peek(4); err != nil || !httpStart(b) {
		return err == nil
	}
	var h base.HTTPRequest
	if err := h.Unmarshal(c.br, c.srv.cfg.Limits); err != nil {
		if _, ok := errors.AsType[*base.Error](err); ok {
			c.refuseHTTP(1, err)
		}
		return false
	}
	c.log = c.log.With("tunnel", tunnelHTTP)
	req, err := tunnel.Classify(&h)
	if err == nil && req.Kind == tunnel.KindGet && c.br.Buffered() > 0 {
		err = base.NewError(base.StatusBadRequest, "data after the tunnel get", errGetData)
	}
	if err != nil {
		c.refuseHTTP(h.Minor, err)
		return false
	}
	user, err := c.identifyHTTP(&h)
	if err != nil {
		c.refuseHTTP(h.Minor, err)
		return false
	}
	owner := tunnelOwner{user: user, ip: c.peer.Addr(), tls: c.secure}
	if req.Kind == tunnel.KindPost {
		c.servePost(h.Minor, req.Cookie, owner)
		return false
	}
	return c.openGet(h.Minor, req.Cookie, owner)
}

// identifyHTTP checks the credentials of a tunnel request's head, if it has
// any, as those of an RTSP request (RTSP-HT-07): the user, "" for none.
func (c *conn) identifyHTTP(h *base.HTTPRequest) (string, error) {
	if !h.Header.Has("Authorization") {
		return "", nil
	}
	req := &base.Request{Method: base.Method(h.Method), URL: h.Target, Header: h.Header}
	if err := c.identify(req); err != nil {
		return "", err
	}
	return c.user, nil
}

// openGet answers the GET of a tunnel (RTSP-HT-02) and turns c into its
// RTSP connection: from now on c reads the POSTs the tunnel table hands
// over and writes to the GET's connection.
func (c *conn) openGet(minor int, cookie string, owner tunnelOwner) bool {
	raw := c.nc
	t := newTunnelConn(raw, c.br, cookie, owner, c.srv.tunnels, c.srv.cfg.TunnelTimeout, c.cancel)
	if err := c.srv.tunnels.addGet(t); err != nil {
		c.refuseHTTP(minor, tableError(err))
		return false
	}
	_ = raw.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout)) // a failure shows in Write
	if _, err := raw.Write(tunnel.AppendOK(nil, minor, c.srv.cfg.ServerName)); err != nil {
		_ = t.Close() // forgets the tunnel; the peer went away
		return false
	}
	_ = raw.SetReadDeadline(time.Time{}) // the watcher's reads have none
	c.deadline = time.Time{}
	c.nc, c.br, c.tunnel = t, bufio.NewReaderSize(t, min(initialReadBuffer, c.srv.cfg.ReadBufferSize)), tunnelHTTP
	t.watch()
	c.log.Debug("rtsp tunnel get", "user", owner.user)
	return true
}

// servePost gives the body of a tunnel POST to its GET's tunnel, waiting up
// to Config.TunnelTimeout for the GET if it has not come yet (RTSP-HT-03,
// -04), and then waits until the tunnel stops reading it: the POST is never
// answered, and its connection keeps its slot as long as it is read.
func (c *conn) servePost(minor int, cookie string, owner tunnelOwner) {
	h := newPostHalf(c.nc, c.br, owner)
	if err := c.srv.tunnels.addPost(cookie, h); err != nil {
		c.refuseHTTP(minor, tableError(err))
		return
	}
	timer := time.NewTimer(c.srv.cfg.TunnelTimeout)
	defer timer.Stop()
	select {
	case <-h.attached:
	case <-h.done:
	case <-timer.C:
		if c.srv.tunnels.dropWaiting(cookie, h) {
			c.srv.tunnelRefused(c.log, 0, errNoGet)
			return
		}
		select { // a GET took it at the same moment
		case <-h.attached:
		case <-h.done:
		}
	case <-c.ctx.Done():
		c.srv.tunnels.dropWaiting(cookie, h)
		return
	}
	select {
	case <-h.attached:
	default: // refused while it waited: a GET of another owner came, or its GET went
		if errors.Is(h.err, errNoGet) {
			c.srv.tunnelRefused(c.log, 0, errNoGet)
		} else {
			c.refuseHTTP(minor, tableError(h.err))
		}
		return
	}
	c.srv.noteRequest(c, true, time.Now()) // never the idle connection that makes room
	c.log.Debug("rtsp tunnel post", "user", owner.user)
	select {
	case <-h.done:
	case <-c.ctx.Done():
	}
}

// tableError gives a refusal of the tunnel table its status.
func tableError(err error) error {
	status := base.StatusForbidden
	switch {
	case errors.Is(err, errTunnelDuplicate):
		status = 409 // Conflict: HTTP only, not an RTSP status
	case errors.Is(err, errTunnelsFull):
		status = base.StatusServiceUnavailable
	}
	return base.NewError(status, "tunnel refused", err)
}

// refuseHTTP answers a refused tunnel request with the status of err (400
// when it has none) and counts it; a 401 carries the challenges of Access.
// The connection is closed afterwards.
func (c *conn) refuseHTTP(minor int, err error) {
	status := base.StatusBadRequest
	if e, ok := errors.AsType[*base.Error](err); ok {
		status = e.Status
	}
	h := base.Header{}
	if a := c.srv.cfg.Access; a != nil && status == base.StatusUnauthorized {
		for _, v := range a.Auth.Challenge(c.peer.Addr(), c.secure, errors.Is(err, auth.ErrStaleNonce)) {
			h.Add("WWW-Authenticate", v)
		}
	}
	c.srv.tunnelRefused(c.log, status, err)                                            // counted before the peer can see the answer
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))                  // a failure shows in Write
	_, _ = c.nc.Write(tunnel.AppendError(nil, minor, status, c.srv.cfg.ServerName, h)) // closed next anyway
}

// tunnelRefused counts a refused tunnel request or a tunnel ended for
// breaking the protocol, and logs it: a bad credential (the failure
// limiter and metrics count those) and an HTTP request that is no tunnel
// request at all (a browser or a port scanner) at debug level, the rest as
// a warning at most once per tunnelLogInterval.
func (s *Server) tunnelRefused(log *slog.Logger, status int, err error) {
	s.mu.Lock()
	s.tunnelRefusals++
	s.mu.Unlock()
	if status == base.StatusUnauthorized || errors.Is(err, tunnel.ErrNotTunnel) {
		log.Debug("rtsp tunnel refused", "status", status, "err", err)
		return
	}
	if ok, n := s.tunnelLog.allow(time.Now()); ok {
		log.Warn("rtsp tunnel refused", "status", status, "err", err, "suppressed", n)
	}
}
