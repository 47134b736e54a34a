package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// handlerFunc is a route's handler: it writes a success answer or returns
// the error that ServeHTTP turns into a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// route is one entry of the mux.
type route struct {
	pattern string
	handle  handlerFunc
	// stream routes (the exports) have a deadline per write rather than
	// one for the whole answer.
	stream bool
	// public routes need no authentication (/healthz).
	public bool
}

// unmatched is the route label of a request that matched no pattern.
const unmatched = "unmatched"

// ServeHTTP implements http.Handler: it hands the requests of RTSP over
// HTTP and WebSocket to Deps.Tunnels (serveTunnel), dispatches the others
// to the route, turns a 404 or 405 of the mux into a problem, recovers a panic into a 500 for
// this request only, and reports the route, status and time to
// Deps.ObserveHTTP.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	h, pattern := s.mux.Handler(r)
	label := pattern
	if label == "" {
		label = unmatched
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // a sentinel panic value, compared as net/http does
				panic(v)
			}
			s.log.Error("request handler panicked", "path", r.URL.Path, "err", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.code == 0 {
				s.writeProblem(sw, r, errors.New("panic"))
			}
		}
		dur := time.Since(begin)
		if s.deps.ObserveHTTP != nil {
			s.deps.ObserveHTTP(label, sw.status(), dur)
		}
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("route", label),
			slog.Int("status", sw.status()), slog.Duration("dur", dur), slog.String("peer", r.RemoteAddr))
	}()
	if kind := tunnelKind(r); kind != "" && s.deps.Tunnels != nil {
		label = tunnelRoute
		s.serveTunnel(sw, r, kind)
		return
	}
	if pattern != "" {
		s.mux.ServeHTTP(sw, r) // sets the path values
		return
	}
	iw := &interceptWriter{statusWriter: sw}
	h.ServeHTTP(iw, r)
	if iw.code >= 400 {
		detail := "no such route"
		if iw.code == http.StatusMethodNotAllowed {
			detail = "method not allowed here; Allow lists the methods"
		}
		s.writeProblem(sw, r, errStatus(iw.code, detail))
	}
}

// wrap returns the http.Handler of rt: the write deadline, authentication,
// the handler, and its error written as a problem. A JSON route must write
// its whole answer within Config.WriteTimeout; a stream route gets that
// long for each write instead (streamWriter), so it may run for hours but a
// client that stops reading is dropped.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit.claim(connOf(r)) {
			panic(http.ErrAbortHandler) // closed to make room after its request was read: nothing runs
		}
		rc := http.NewResponseController(w)
		hw := w
		deadline := time.Now().Add(s.cfg.WriteTimeout)
		if rt.stream {
			deadline = time.Time{}
			hw = &streamWriter{ResponseWriter: w, rc: rc, idle: s.cfg.WriteTimeout}
		}
		_ = rc.SetWriteDeadline(deadline) // unsupported only under httptest, where nothing times out
		c := &caller{peer: peerAddr(r), tls: r.TLS != nil}
		var err error
		if !rt.public {
			c, err = s.authenticate(r)
		}
		if err == nil {
			err = rt.handle(hw, r, c)
		}
		if err == nil {
			return
		}
		if sw, ok := w.(*statusWriter); ok && sw.code != 0 {
			s.log.Debug("request failed after the answer began", "path", r.URL.Path, "err", err)
			return
		}
		s.writeProblem(w, r, err)
	})
}

// streamChunk is the most a stream writes under one deadline when it copies
// from a reader (http.ServeContent's body).
const streamChunk = 256 << 10

// streamWriter is the writer of a stream route: it moves the connection's
// write deadline idle ahead before each write and flush.
type streamWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *streamWriter) push() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle)) // unsupported only under httptest
}

func (w *streamWriter) Write(b []byte) (int, error) {
	w.push()
	return w.ResponseWriter.Write(b)
}

// ReadFrom copies r in chunks of streamChunk, each under its own deadline.
func (w *streamWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, streamChunk)
	return io.CopyBuffer(writerOnly{w}, r, buf)
}

// FlushError implements the flush of http.ResponseController.
func (w *streamWriter) FlushError() error {
	w.push()
	return w.rc.Flush()
}

// Flush implements http.Flusher.
func (w *streamWriter) Flush() { _ = w.FlushError() } // a writer that cannot flush still gets every byte

// Unwrap lets http.ResponseController reach the connection.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides a writer's ReadFrom, so that io.CopyBuffer uses the buffer.
type writerOnly struct{ io.Writer }

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int // 0 until the header is written
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the connection's sendfile path for the exports.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return io.Copy(w.ResponseWriter, r)
}

// Flush implements http.Flusher for the streaming exports.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush() // no flusher: nothing to flush
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the answer's status; 200 for a handler that wrote nothing.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// interceptWriter swallows the mux's own 4xx answer so that ServeHTTP can
// write a problem instead; other answers (a redirect to a clean path) pass.
type interceptWriter struct {
	*statusWriter
	code int
}

func (w *interceptWriter) WriteHeader(code int) {
	if code >= 400 {
		w.code = code
		return
	}
	w.statusWriter.WriteHeader(code)
}

func (w *interceptWriter) Write(b []byte) (int, error) {
	if w.code >= 400 {
		return len(b), nil
	}
	return w.statusWriter.Write(b)
}
