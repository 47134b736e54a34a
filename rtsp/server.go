package rtsp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Server is an RTSP server for publishers and viewers. Build it with
// NewServer, serve with Run; it is safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ln    net.Listener // plain RTSP; nil with TLSOnly
	tlsLn net.Listener // RTSPS; nil without TLS
	udp   *udpPair     // nil when UDP is disabled

	mu             sync.Mutex // guards the fields below
	sessions       map[string]*session
	conns          map[*conn]*connEntry // admitted connections (server_admit.go)
	perAddr        map[netip.Addr]int   // admitted connections per peer IP
	nconns         int                  // admitted connections, also those not yet tracked
	tlsConns       int                  // tracked RTSPS connections
	serial         uint64
	slowClients    uint64 // viewers dropped by dropSlow
	tunnelRefusals uint64 // tunnel requests refused and tunnels ended for breaking the protocol
	redirected     redirectCounts
	running        bool
	serving        bool            // Run serves: ServeConn may start connections
	runCtx         context.Context // Run's context, for ServeConn
	closed         bool
	runCancel      context.CancelFunc
	done           chan struct{} // closed when Run returns
	started        chan struct{} // closed when Run serves

	tunnels *tunnelTable // the halves of RTSP-over-HTTP tunnels, by cookie

	wg        sync.WaitGroup // every goroutine started by Run
	closeOnce sync.Once

	refusedLog logEvery // "rtsp connection refused", at most once a minute
	failedLog  logEvery // "rtsp request failed" (5xx), at most once a second
	tunnelLog  logEvery // "rtsp tunnel refused", at most once a second
}

// Intervals of rate-limited warnings: a peer that provokes them in a loop
// costs a counter, not a log line each.
const (
	refusedLogInterval = time.Minute
	failedLogInterval  = time.Second
)

// NewServer applies the defaults to a copy of cfg, validates it and binds
// the TCP listener and, unless DisableUDP, the UDP pair.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := errors.Join(cfg.Validate(), cfg.validateWiring()); err != nil {
		return nil, fmt.Errorf("rtsp config: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "rtsp"),
		sessions: make(map[string]*session),
		conns:    make(map[*conn]*connEntry),
		perAddr:  make(map[netip.Addr]int),
		done:     make(chan struct{}),
		started:  make(chan struct{}),
		tunnels:  newTunnelTable(cfg.MaxPendingTunnels),
	}
	s.refusedLog.interval = refusedLogInterval
	s.failedLog.interval = failedLogInterval
	s.tunnelLog.interval = tunnelLogInterval
	if err := s.bind(); err != nil {
		s.closeSockets()
		return nil, err
	}
	return s, nil
}

func (s *Server) bind() error {
	if !s.cfg.TLSOnly {
		ln, err := listen(s.cfg.Listener, s.cfg.Address)
		if err != nil {
			return err
		}
		s.ln = ln
	}
	if s.cfg.TLS != nil {
		ln, err := listen(s.cfg.TLSListener, s.cfg.TLSAddress)
		if err != nil {
			return err
		}
		s.tlsLn = tls.NewListener(ln, s.cfg.TLS)
	}
	if s.cfg.DisableUDP {
		return nil
	}
	u, err := newUDPPair(s)
	if err != nil {
		return err
	}
	s.udp = u
	return nil
}

// listen returns ln, or a new TCP listener on addr when ln is nil.
func listen(ln net.Listener, addr string) (net.Listener, error) {
	if ln != nil {
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtsp listen %s: %w", addr, err)
	}
	return ln, nil
}

// Addr returns the plain RTSP listener address, or the RTSPS one with
// TLSOnly.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return s.tlsLn.Addr()
	}
	return s.ln.Addr()
}

// TLSAddr returns the RTSPS listener address, or nil without TLS.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// UDPAddrs returns the addresses of the UDP RTP and RTCP sockets, or nils
// when UDP is disabled.
func (s *Server) UDPAddrs() (rtp, rtcp net.Addr) {
	if s.udp == nil {
		return nil, nil
	}
	return s.udp.rtp.pc.LocalAddr(), s.udp.rtcp.pc.LocalAddr()
}

// Run serves until ctx is done, then closes the listeners and every
// connection, ends every session with ErrServerClosed and waits for all
// its goroutines. It returns nil after a shutdown and an error if the
// server was already run or closed.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.start(ctx, cancel); err != nil {
		return err
	}
	defer close(s.done)
	for _, ln := range []net.Listener{s.ln, s.tlsLn} {
		if ln != nil {
			s.log.Info("rtsp server start", "addr", ln.Addr().String(), "tls", ln == s.tlsLn)
			s.wg.Go(func() { s.acceptLoop(ctx, ln) })
		}
	}
	if s.udp != nil {
		s.udp.start(&s.wg)
	}
	s.wg.Go(func() { s.reapLoop(ctx) })
	<-ctx.Done()
	s.mu.Lock()
	s.serving = false // no ServeConn adds to wg from now on
	s.mu.Unlock()
	s.closeSockets()
	s.wg.Wait()
	for _, ss := range s.sessionList() {
		ss.close(ErrServerClosed)
	}
	s.log.Info("rtsp server stop")
	return nil
}

func (s *Server) start(ctx context.Context, cancel context.CancelFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.closed {
		return errors.New("rtsp server already run or closed")
	}
	s.running, s.serving, s.runCtx, s.runCancel = true, true, ctx, cancel
	close(s.started)
	return nil
}

// Serving returns a channel closed once Run serves: from then on,
// ServeConn serves what it is handed rather than refusing it with
// ErrServerClosed. Whatever hands connections over (the HTTP tunnel and
// WebSocket) waits on it before it starts.
func (s *Server) Serving() <-chan struct{} { return s.started }

// Close stops a running server and waits for Run to return, or releases
// the sockets of a server that was never run. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	running, cancel := s.running, s.runCancel
	s.closed = true
	s.mu.Unlock()
	if running {
		cancel()
		<-s.done
		return nil
	}
	s.closeSockets()
	return nil
}

func (s *Server) closeSockets() {
	s.closeOnce.Do(func() {
		for _, ln := range []net.Listener{s.ln, s.tlsLn} {
			if ln != nil {
				_ = ln.Close() // shutting down: nothing to do with the error
			}
		}
		if s.udp != nil {
			s.udp.close()
		}
	})
}

// acceptLoop accepts connections on ln until it is closed.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener) {
	backoff := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("rtsp accept failed", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		_ = s.accept(ctx, nc, ConnOptions{}) // a refusal is logged
	}
}

// accept admits nc and starts serving it, or closes it at the limits and
// returns why.
func (s *Server) accept(ctx context.Context, nc net.Conn, o ConnOptions) error {
	peer := addrPortOf(nc.RemoteAddr())
	victim, err := s.admit(peer.Addr())
	if err != nil {
		s.logRefused(peer, err)
		_ = nc.Close() // refused: logged, and returned to ServeConn
		return err
	}
	if victim != nil {
		// victim.peer, not victim.log: the victim's goroutine may be scoping its log (openTunnel).
		s.log.Debug("rtsp idle connection closed for a new one", "peer", victim.peer)
		victim.cancel()
	}
	c := newConn(s, nc, o)
	s.track(c, time.Now())
	s.wg.Go(func() {
		defer s.release(c)
		c.run(ctx)
	})
	return nil
}

// logRefused logs a refused connection, at most once a minute with the
// number of refusals it stands for.
func (s *Server) logRefused(peer netip.AddrPort, err error) {
	if ok, n := s.refusedLog.allow(time.Now()); ok {
		s.log.Warn("rtsp connection refused", "peer", peer, "err", err, "suppressed", n)
	}
}

// newSessionID returns 128 random bits as 32 hex characters (RTSP-SES-01).
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// addSession puts ss in the session table and assigns its log serial.
func (s *Server) addSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[ss.id] = ss
}

func (s *Server) nextSerial() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial++
	return s.serial
}

func (s *Server) lookupSession(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// removeSession drops ss from the table and from the UDP demultiplexer.
func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
	if s.udp != nil {
		s.udp.unregister(ss)
	}
}

func (s *Server) sessionList() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		list = append(list, ss)
	}
	return list
}

// reapInterval is how often sessions are checked for expiry: a quarter of
// the shortest timeout or grace, within [10ms, 1s].
func (s *Server) reapInterval() time.Duration {
	d := min(s.cfg.SessionTimeout, s.cfg.MediaTimeout, s.cfg.RedirectGrace) / 4
	return min(max(d, 10*time.Millisecond), time.Second)
}

// reapLoop expires sessions (RTSP-SES-06, RTSP-M-33).
// Packet counters are compared between ticks, so the packet path never
// reads the clock.
func (s *Server) reapLoop(ctx context.Context) {
	t := time.NewTicker(s.reapInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.reap(now)
		}
	}
}

func (s *Server) reap(now time.Time) {
	for _, ss := range s.sessionList() {
		if reason := ss.expired(now); reason != nil {
			ss.expire(reason)
		}
	}
}
