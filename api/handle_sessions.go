package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/camvault/camvault/auth"
)

type sessionJSON struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Mode      string   `json:"mode"`
	Camera    string   `json:"camera"`
	Path      string   `json:"path"`
	Peer      string   `json:"peer"`
	User      string   `json:"user"`
	Transport string   `json:"transport"`
	TLS       bool     `json:"tls"`
	Started   jsonTime `json:"started"`
	Duration  seconds  `json:"duration"`
	Playing   bool     `json:"playing"`
	BytesIn   uint64   `json:"bytes_in"`
	BytesOut  uint64   `json:"bytes_out"`
}

// visibleSessions returns the sessions of cameras c may see.
func (s *Server) visibleSessions(c *caller) ([]Session, error) {
	if err := s.allow(c, auth.ActionAPI, ""); err != nil {
		return nil, err
	}
	if s.deps.Sessions == nil {
		return nil, errNotAvailable
	}
	var out []Session
	for _, ss := range s.deps.Sessions.Sessions() {
		if s.sees(c, ss.Camera) {
			out = append(out, ss)
		}
	}
	return out, nil
}

// handleSessions lists the publishers, viewers and pulls.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	list, err := s.visibleSessions(c) // the right first: an anonymous caller learns nothing from a 400
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	now := s.now()
	out := []sessionJSON{}
	for _, ss := range list {
		var dur time.Duration
		if !ss.Started.IsZero() {
			dur = max(now.Sub(ss.Started), 0)
		}
		out = append(out, sessionJSON{ID: ss.ID, Kind: ss.Kind, Mode: ss.Mode, Camera: ss.Camera, Path: ss.Path,
			Peer: ss.Peer, User: ss.User, Transport: ss.Transport, TLS: ss.TLS, Started: jsonTime(ss.Started),
			Duration: seconds(dur), Playing: ss.Playing, BytesIn: ss.BytesIn, BytesOut: ss.BytesOut})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// handleKick ends a session: 204, 404 for one that does not exist or that
// the caller may not see, 409 for a pull (its schedule owns it).
func (s *Server) handleKick(w http.ResponseWriter, r *http.Request, c *caller) error {
	list, err := s.visibleSessions(c)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	found := false
	for _, ss := range list {
		found = found || ss.ID == id
	}
	if !found {
		return errStatus(http.StatusNotFound, "no such session")
	}
	switch err := s.deps.Sessions.Kick(id); {
	case errors.Is(err, ErrNotFound):
		return errStatus(http.StatusNotFound, "no such session")
	case errors.Is(err, ErrNotKickable):
		return errStatus(http.StatusConflict, "this session cannot be ended here (a pull follows its schedule)")
	case err != nil:
		return fmt.Errorf("kick %s: %w", id, err)
	}
	s.log.Info("session kicked", "session", id, "user", c.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}
