package rtsp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/internal/lex"
	"github.com/camvault/camvault/rtsp/tunnel"
)

// conn is one RTSP connection: a reader goroutine that parses requests and
// interleaved frames and handles them in order, and a writer goroutine that
// drains a bounded queue of marshalled responses (RTSP-MSG-08, RTSP-IL-03).
// The first of the two to fail cancels the other.
type conn struct {
	srv    *Server
	nc     net.Conn
	br     *bufio.Reader
	peer   netip.AddrPort
	secure bool         // RTSPS, HTTPS or wss: nc is a *tls.Conn, or ConnOptions.TLS said so
	tunnel string       // what carries it: "" (RTSP), tunnelHTTP or tunnelWebSocket
	httpOK bool         // it may begin with a tunnel GET or POST (openTunnel)
	log    *slog.Logger // scoped once more by openTunnel, before the reader and writer start
	out    chan outMsg  // responses in request order; closed by the reader

	media mediaQueue     // interleaved media of play sessions (server_output.go)
	reqs  serverRequests // requests to the client and their answers (server_conn_request.go)
	slow  atomic.Bool    // the viewer was dropped for not reading (dropSlow)

	ctx    context.Context // the connection's own lifetime
	cancel context.CancelFunc

	// Owned by the reader goroutine.
	user    string          // who sent the current request, "" for anonymous (identify)
	reqAt   time.Time       // when the current request was read
	pending *announcement   // announced publication without a session yet
	unused  []*announcement // described presentations without a session yet, oldest first
	after   func()          // called once the current response is queued (runAfter)
	// afterWritten, if not nil, delays after until the response is written.
	afterWritten chan struct{}
	sessions     []*session // sessions created on this connection
	// ended holds the ids of the last sessions of this connection that
	// ended by themselves (endedItself), at most maxEndedSessions, for
	// a TEARDOWN that crossed the end (handleTeardown).
	ended    []string
	channels [256]channelTarget
	idle     bool      // no live session: the idle timeout applies
	deadline time.Time // current read deadline, zero for none
	drops    int       // interleaved frames dropped
}

// announcement is an announced presentation (RTSP-M-11), or a described
// one for playback (play is set then, pub is nil).
type announcement struct {
	pub      Publication
	play     Presentation
	user     string   // who announced or described it, "" for anonymous
	url      string   // ANNOUNCE or DESCRIBE Request-URI: the base for SETUP URLs
	path     string   // as passed to the Handler
	controls []string // Publication.Controls() or Presentation.Controls()
}

// channelTarget routes an interleaved channel to a stream (RTSP-IL-02).
type channelTarget struct {
	ss     *session
	stream int
	rtcp   bool
}

var errConnPanic = errors.New("panic in connection")

// initialReadBuffer is the read buffer of a new connection: enough for
// requests, which are read line by line. The first interleaved frame that
// does not fit grows it to Config.ReadBufferSize, so that idle and
// request-only connections (viewers, floods of idle sockets) cost 4 KiB,
// not 128.
const initialReadBuffer = 4 << 10

func newConn(s *Server, nc net.Conn, o ConnOptions) *conn {
	peer := addrPortOf(nc.RemoteAddr())
	ctx, cancel := context.WithCancel(context.Background())
	_, secure := nc.(*tls.Conn)
	var src io.Reader = nc
	if len(o.Prefix) > 0 {
		src = io.MultiReader(bytes.NewReader(o.Prefix), nc)
	}
	log := s.log.With("peer", peer)
	carrier := ""
	if o.WebSocket {
		carrier = tunnelWebSocket
		log = log.With("tunnel", carrier)
	}
	return &conn{
		srv:    s,
		nc:     nc,
		secure: secure || o.TLS,
		tunnel: carrier,
		httpOK: !o.WebSocket,
		br:     bufio.NewReaderSize(src, min(initialReadBuffer, s.cfg.ReadBufferSize)),
		peer:   peer,
		log:    log,
		out:    make(chan outMsg, s.cfg.WriteQueueSize),
		media:  newMediaQueue(s.cfg.MediaQueueSize),
		ctx:    ctx,
		cancel: cancel,
		idle:   true,
	}
}

// addrPortOf returns the address of a net.Addr, unmapped from IPv6.
func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String()) // net.Pipe and others: zero value is fine
	return ap
}

// run serves the connection until the peer closes, an error occurs or
// parent is done, then ends what the connection owns.
func (c *conn) run(parent context.Context) {
	stopParent := context.AfterFunc(parent, c.cancel)
	defer stopParent()
	c.log.Debug("rtsp conn open", "tls", c.secure)
	if !c.open() {
		c.cancel()
		_ = c.nc.Close() // done: nothing to report
		return
	}
	stopClose := context.AfterFunc(c.ctx, func() { _ = c.nc.Close() })
	defer stopClose()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.writeLoop(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.dropSlow(nil)
			}
			c.cancel()
		}
	})
	err := c.readLoop()
	c.closeOut()
	wg.Wait()
	c.cancel()
	_ = c.nc.Close() // already closed or closing: nothing to report
	c.tunnelEnded(err)
	reason := ErrConnClosed
	if parent.Err() != nil {
		reason = ErrServerClosed
	}
	c.cleanup(reason)
	c.closeUnused(reason)
	c.log.Debug("rtsp conn close", "err", err, "dropped", c.drops)
}

// open readies a new connection: the TLS handshake, then, where the
// connection may begin with an HTTP tunnel request, that request
// (openTunnel). It reports whether the connection goes on as an RTSP
// connection. Until then the connection that was accepted is closed when
// c.ctx is done; a panic ends only this connection, as in readLoop.
func (c *conn) open() (ok bool) {
	raw := c.nc
	stop := context.AfterFunc(c.ctx, func() { _ = raw.Close() })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("rtsp conn panic", "err", r, "stack", string(debug.Stack()))
			ok = false
		}
	}()
	if err := c.handshake(); err != nil {
		c.log.Debug("rtsp tls handshake failed", "err", err)
		return false
	}
	return !c.httpOK || c.openTunnel()
}

// tunnelEnded counts and logs a tunnel that ended for breaking the
// protocol: base64 that does not decode, data on its GET's connection, no
// POST in time.
func (c *conn) tunnelEnded(err error) {
	if t, ok := c.nc.(*tunnelConn); ok {
		if why := t.reason(); why != nil {
			err = why
		}
	}
	if errors.Is(err, tunnel.ErrBase64) || errors.Is(err, errGetData) || errors.Is(err, errNoPost) {
		c.srv.tunnelRefused(c.log, 0, err)
	}
}

// handshake completes the TLS handshake of an RTSPS connection within
// HandshakeTimeout (SEC-02, SEC-08); plain connections have none.
func (c *conn) handshake() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.HandshakeTimeout)
	defer cancel()
	return tc.HandshakeContext(ctx)
}

// cleanup ends the announced publication and every session of the
// connection (RTSP-SES-06, RTSP-SES-08), UDP ones included: a session
// whose control connection is gone has nobody to answer for it, and one
// that outlived its connection would hold its camera name and a slot
// without counting against the connection limits. A UDP recording that
// was torn down is left to take its last datagrams (handleTeardown).
func (c *conn) cleanup(reason error) {
	if c.pending != nil {
		closePublication(c.pending.pub, reason, c.log)
		c.pending = nil
	}
	for _, ss := range c.sessions {
		r := reason
		if ss.pres.play != nil && c.slow.Load() {
			r = ErrSlowClient
		}
		if !ss.tornDown {
			ss.close(r)
		}
	}
}

// readLoop reads messages until an error. A panic in a handler is
// recovered here: it ends only this connection.
func (c *conn) readLoop() (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("rtsp conn panic", "err", r, "stack", string(debug.Stack()))
			err = errConnPanic
		}
	}()
	for {
		if err := c.readMessage(); err != nil {
			return err
		}
	}
}

// readMessage reads one interleaved frame, response or request. The first
// byte decides, at any time on the connection (RTSP-MSG-09, RTSP-IL-04).
func (c *conn) readMessage() error {
	if c.idle {
		c.setReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
	} else {
		c.setReadDeadline(time.Time{})
	}
	b, err := c.br.Peek(1)
	if err != nil {
		return err
	}
	switch b[0] {
	case base.InterleavedMagic:
		return c.readFrame()
	case '\r', '\n': // stray line ends between messages
		_, _ = c.br.Discard(1) // cannot fail: the byte is buffered
		return nil
	}
	c.setReadDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout))
	if b, err := c.br.Peek(5); err == nil && bytes.Equal(b, []byte("RTSP/")) {
		return c.readResponse()
	}
	return c.readRequest()
}

// setReadDeadline changes the read deadline only when needed, so the frame
// path makes no syscall.
func (c *conn) setReadDeadline(t time.Time) {
	if t.IsZero() && c.deadline.IsZero() {
		return
	}
	c.deadline = t
	_ = c.nc.SetReadDeadline(t) // a failure shows in the next read
}

// readFrame handles one interleaved frame straight from the read buffer,
// without copying or allocating. Empty and oversized frames are skipped
// (RTSP-IL-01); frames on unknown channels are dropped (RTSP-IL-02).
func (c *conn) readFrame() error {
	hdr, err := c.br.Peek(base.InterleavedHeaderSize)
	if err != nil {
		return lex.UnexpectedEOF(err, 1)
	}
	ch := hdr[1]
	n := int(binary.BigEndian.Uint16(hdr[2:]))
	total := base.InterleavedHeaderSize + n
	if n == 0 || n > c.srv.cfg.MaxPacketSize {
		c.drops++
		_, err := c.br.Discard(total)
		return lex.UnexpectedEOF(err, 1)
	}
	if total > c.br.Size() {
		// The small reader's buffered bytes are read first by the new one.
		c.br = bufio.NewReaderSize(c.br, c.srv.cfg.ReadBufferSize)
	}
	frame, err := c.br.Peek(total)
	if err != nil {
		return lex.UnexpectedEOF(err, 1)
	}
	c.dispatchFrame(ch, frame[base.InterleavedHeaderSize:])
	_, _ = c.br.Discard(total) // cannot fail: the bytes are buffered
	return nil
}

func (c *conn) dispatchFrame(ch uint8, pkt []byte) {
	t := c.channels[ch]
	if t.ss == nil {
		c.drops++
		return
	}
	if p := t.ss.deliver(t.stream, t.rtcp || base.IsRTCP(pkt), pkt); p != nil {
		t.ss.packetPanicked(p)
	}
}

// readRequest reads, handles and answers one request. A request that
// cannot be parsed is answered (without CSeq, RTSP-MSG-05) and the
// connection closed: its framing is lost.
func (c *conn) readRequest() error {
	var req base.Request
	if err := req.Unmarshal(c.br, c.srv.cfg.Limits); err != nil {
		if e, ok := errors.AsType[*base.Error](err); ok {
			c.log.Debug("rtsp bad request", "err", err)
			c.reply(&req, &base.Response{StatusCode: e.Status, Header: base.Header{}})
		}
		return err
	}
	c.reqAt = time.Now()
	resp := c.handle(&req)
	c.updateIdle()
	if err := c.reply(&req, resp); err != nil {
		return err
	}
	return c.runAfter()
}

func (c *conn) reply(req *base.Request, resp *base.Response) error {
	c.finish(req, resp)
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	return c.send(outMsg{b: b, written: c.afterWritten})
}

// maxEndedSessions bounds conn.ended.
const maxEndedSessions = 4

// teardownOfEnded reports whether req, a TEARDOWN that names no open
// session, names one of this connection that ended by itself: a live
// camera that stopped ends its viewers' sessions with RTCP BYE, and
// GStreamer, for one, answers with TEARDOWN, which may arrive after the
// session is gone. It is answered 200, as the end it asks for happened;
// the id is forgotten, so a second TEARDOWN gets 454.
func (c *conn) teardownOfEnded(req *base.Request) bool {
	id, ok, _ := sessionID(req)
	if !ok {
		return false
	}
	c.updateIdle() // records what ended since the last request
	i := slices.Index(c.ended, id)
	if i < 0 {
		return false
	}
	c.ended = slices.Delete(c.ended, i, i+1)
	return true
}

// updateIdle recomputes whether the idle timeout applies and forgets ended
// sessions.
func (c *conn) updateIdle() {
	live := c.sessions[:0]
	for _, ss := range c.sessions {
		switch {
		case !ss.isClosed():
			live = append(live, ss)
		case ss.endedItself():
			if len(c.ended) == maxEndedSessions {
				c.ended = slices.Delete(c.ended, 0, 1)
			}
			c.ended = append(c.ended, ss.id)
		}
	}
	clear(c.sessions[len(live):])
	c.sessions = live
	c.idle = len(live) == 0
	c.srv.noteRequest(c, !c.idle, time.Now())
}
