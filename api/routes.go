package api

import (
	_ "embed"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/camvault/camvault/auth"
)

// openAPI is the OpenAPI 3.0 document of the routes below; a test checks
// that both list the same operations.
//
//go:embed openapi.json
var openAPI []byte

// routes lists every route; New registers them on the mux.
func (s *Server) routes() []route {
	return []route{
		{pattern: "GET /healthz", handle: s.handleHealthz, public: true},
		{pattern: "GET /readyz", handle: s.handleReadyz, public: true},
		{pattern: "GET /metrics", handle: s.handleMetrics},
		{pattern: "GET /api/v1/openapi.json", handle: s.handleOpenAPI},
		{pattern: "GET /api/v1/cameras", handle: s.handleCameras},
		{pattern: "GET /api/v1/cameras/{camera}", handle: s.handleCamera},
		{pattern: "GET /api/v1/cameras/{camera}/recordings", handle: s.handleRecordings},
		{pattern: "GET /api/v1/cameras/{camera}/summary", handle: s.handleSummary},
		{pattern: "GET /api/v1/cameras/{camera}/export.mp4", handle: s.handleExportMP4, stream: true},
		{pattern: "GET /api/v1/cameras/{camera}/export.m4s", handle: s.handleExportM4S, stream: true},
		{pattern: "GET /api/v1/cameras/{camera}/live.ws", handle: s.handleLive, stream: true},
		{pattern: "GET /api/v1/sessions", handle: s.handleSessions},
		{pattern: "DELETE /api/v1/sessions/{id}", handle: s.handleKick},
		{pattern: "GET /api/v1/holds", handle: s.handleHolds},
		{pattern: "POST /api/v1/holds", handle: s.handleAddHold},
		{pattern: "DELETE /api/v1/holds/{id}", handle: s.handleRemoveHold},
		{pattern: "GET /api/v1/retention/dry-run", handle: s.handleDryRun},
		{pattern: "POST /api/v1/retention/dry-run", handle: s.handleDryRun},
		{pattern: "GET /api/v1/storage", handle: s.handleStorage},
	}
}

// Patterns returns the patterns of every route ("GET /api/v1/cameras"), in
// registration order: what the OpenAPI test compares with the document.
func (s *Server) Patterns() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.pattern)
	}
	return out
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request, _ *caller) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the listeners are bound and the archive is
// ready; 503 otherwise. A loopback peer needs no credentials (the systemd
// watchdog, a local probe); others need the metrics right. A failing probe
// is logged at most once per readyLogInterval (probes come every few
// seconds).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request, c *caller) error {
	if !c.peer.IsLoopback() || r.Header.Get("Authorization") != "" {
		var err error
		if c, err = s.authenticate(r); err != nil {
			return err
		}
		if !c.peer.IsLoopback() {
			if err := s.allow(c, auth.ActionMetrics, ""); err != nil {
				return err
			}
		}
	}
	if err := s.Ready(); err != nil {
		return errStatus(http.StatusServiceUnavailable, err.Error())
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Ready returns nil when the server is ready, else an error that says why ("not ready:
// listeners not bound; storage not ready"): the checks of /readyz, which the systemd watchdog
// of serve also makes. A failing archive is logged at most once per readyLogInterval.
func (s *Server) Ready() error {
	var why []string
	if !s.bound() {
		why = append(why, "listeners not bound")
	}
	if s.deps.Archive != nil {
		if err := s.deps.Archive.Ready(); err != nil {
			s.notReady(err)
			why = append(why, "storage not ready")
		}
	}
	if len(why) > 0 {
		return errors.New("not ready: " + strings.Join(why, "; "))
	}
	return nil
}

// readyLogInterval is the least time between two logs of a failing
// /readyz.
const readyLogInterval = time.Minute

// notReady logs the archive's readiness failure err, unless one was logged
// less than readyLogInterval ago.
func (s *Server) notReady(err error) {
	now := s.now()
	s.mu.Lock()
	quiet := !s.readyLogged.IsZero() && now.Sub(s.readyLogged) < readyLogInterval
	if !quiet {
		s.readyLogged = now
	}
	s.mu.Unlock()
	if !quiet {
		s.log.Warn("not ready", "err", err)
	}
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.allow(c, auth.ActionMetrics, ""); err != nil {
		return err
	}
	if s.deps.Metrics == nil {
		return errNotAvailable
	}
	s.deps.Metrics.ServeHTTP(w, r)
	return nil
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request, c *caller) error {
	if err := s.allow(c, auth.ActionAPI, ""); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPI) // the client went away: nothing to do
	return nil
}
