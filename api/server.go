package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is camvault's HTTP server: the JSON API under /api/v1, /metrics,
// /healthz and /readyz, on a plain listener and, with Config.TLS, an HTTPS
// one. Build it with New, bind with Listen, serve with Run, release with
// Close. It is an http.Handler itself, so tests drive it with httptest.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	mux  *http.ServeMux
	srv  *http.Server
	// admit bounds the connections of both listeners (Config.MaxConnections...).
	admit *admission

	// liveWG counts the running live views (handleLive), which outlive
	// http.Server's Shutdown: their connections are hijacked. liveStop is
	// closed to end them (stopLive).
	liveWG   sync.WaitGroup
	liveStop chan struct{}

	mu sync.Mutex
	// guarded by mu:
	plain, secure net.Listener // nil when not bound or not configured
	closed        bool
	readyLogged   time.Time // when /readyz last logged a failure
	liveViews     int       // live views admitted (http.max_live_viewers)
	liveClosed    bool      // liveStop is closed: no more live views
}

// New validates cfg (defaults applied) and builds a Server over deps;
// deps.Authority is required. It binds nothing.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Authority == nil {
		return nil, errors.New("api: Deps.Authority is required")
	}
	if cfg.TLSOnly && cfg.TLS == nil {
		return nil, errors.New("api: TLSOnly needs TLS")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps, log: cfg.Logger.With("component", "http"), mux: http.NewServeMux(),
		liveStop: make(chan struct{})}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	s.mountWeb()
	if deps.PeerToken != "" {
		if len(deps.PeerToken) < 16 {
			return nil, errors.New("api: Deps.PeerToken shorter than 16 bytes")
		}
		s.mux.Handle(peerLivePattern, s.wrap(route{pattern: peerLivePattern, handle: s.handlePeerLive, stream: true, public: true}))
	}
	if deps.Cluster != nil {
		s.mux.Handle("GET "+ClusterPathPrefix, s.admitted(deps.Cluster))
	}
	s.admit = newAdmission(cfg.MaxConnections, cfg.MaxConnectionsPerAddress, deps.Now, s.log)
	s.srv = &http.Server{
		Handler:           s,
		ConnState:         s.admit.connState,
		ConnContext:       connContext,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// WriteTimeout stays 0: wrap sets a per-route deadline, none for
		// the streams.
	}
	return s, nil
}

func (s *Server) now() time.Time { return s.deps.Now() }

// ClusterPathPrefix is where Deps.Cluster is served.
const ClusterPathPrefix = "/cluster/v1/"

// admitted is h behind the connection admission that wrap applies to the routes.
func (s *Server) admitted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit.claim(connOf(r)) {
			panic(http.ErrAbortHandler) // closed to make room after its request was read: nothing runs
		}
		h.ServeHTTP(w, r)
	})
}

// Listen binds the plain listener (unless TLSOnly) and, with TLS, the HTTPS
// one. A busy address is an error and leaves nothing bound. Nothing is
// served before Run.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("api: listen after close")
	}
	if s.plain != nil || s.secure != nil {
		return errors.New("api: already listening")
	}
	var plain, secure net.Listener
	var err error
	if !s.cfg.TLSOnly {
		if plain, err = net.Listen("tcp", s.cfg.Address); err != nil {
			return fmt.Errorf("http: %w", err)
		}
	}
	if s.cfg.TLS != nil {
		if secure, err = net.Listen("tcp", s.cfg.TLSAddress); err != nil {
			if plain != nil {
				_ = plain.Close() // bound a moment ago; nothing served on it
			}
			return fmt.Errorf("https: %w", err)
		}
	}
	s.plain, s.secure = plain, secure
	return nil
}

// Addr returns the plain listener's address, nil when not bound.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plain == nil {
		return nil
	}
	return s.plain.Addr()
}

// TLSAddr returns the HTTPS listener's address, nil when not bound.
func (s *Server) TLSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secure == nil {
		return nil
	}
	return s.secure.Addr()
}

// bound reports whether Listen bound the configured listeners and Close
// has not run.
func (s *Server) bound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && (s.plain != nil || s.secure != nil)
}

// Run serves the bound listeners until ctx is done, then shuts down:
// running requests get Config.ShutdownTimeout to finish, then every
// connection is closed; live views are told and waited for. It returns an
// error when a listener fails.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	plain, secure := s.plain, s.secure
	s.mu.Unlock()
	if plain == nil && secure == nil {
		return errors.New("api: Run before Listen")
	}
	s.srv.BaseContext = func(net.Listener) context.Context { return ctx }
	errc := make(chan error, 2)
	n := 0
	serve := func(l net.Listener) {
		n++
		go func() { errc <- s.srv.Serve(l) }()
	}
	if plain != nil {
		serve(s.admit.listener(plain))
	}
	if secure != nil {
		serve(tls.NewListener(s.admit.listener(secure), s.cfg.TLS))
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		n--
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if serr := s.srv.Shutdown(sctx); serr != nil {
		s.log.Warn("requests still running at shutdown; closing their connections", "err", serr)
		_ = s.srv.Close() // what Shutdown left open
	}
	s.stopLive()
	for ; n > 0; n-- {
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close closes the listeners and every connection, and ends the live views
// and waits for them. It is idempotent and safe after Run returned.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	plain, secure := s.plain, s.secure
	s.mu.Unlock()
	err := s.srv.Close()
	s.stopLive()
	for _, l := range []net.Listener{plain, secure} {
		if l != nil {
			if cerr := l.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
				err = errors.Join(err, cerr)
			}
		}
	}
	return err
}
