package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/storage"
)

type holdJSON struct {
	ID      string   `json:"id"`
	Camera  string   `json:"camera"`
	From    jsonTime `json:"from"`
	To      jsonTime `json:"to"`
	Reason  string   `json:"reason"`
	Created jsonTime `json:"created"`
}

func newHoldJSON(h storage.StoredHold) holdJSON {
	return holdJSON{ID: h.ID, Camera: h.Camera, From: jsonTime(h.From), To: jsonTime(h.To), Reason: h.Reason, Created: jsonTime(h.Created)}
}

// holdRequest is the body of POST /api/v1/holds.
type holdRequest struct {
	Camera string `json:"camera"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// archive returns the archive after the api right check, or 503.
func (s *Server) archive(c *caller) (Archive, error) {
	if err := s.allow(c, auth.ActionAPI, ""); err != nil {
		return nil, err
	}
	if s.deps.Archive == nil {
		return nil, errNotAvailable
	}
	return s.deps.Archive, nil
}

// handleHolds lists the holds of the cameras the caller may see, or of
// ?camera= only.
func (s *Server) handleHolds(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.archive(c)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "camera")
	if err != nil {
		return err
	}
	camera := q.get("camera")
	if camera != "" {
		if err := s.allow(c, auth.ActionAPI, camera); err != nil {
			return err
		}
		if storage.ValidCamera(camera) != nil {
			return errStatus(http.StatusBadRequest, "invalid camera name")
		}
	}
	holds, err := a.Holds(camera)
	if err != nil {
		return fmt.Errorf("list holds: %w", err)
	}
	out := []holdJSON{}
	for _, h := range holds {
		if s.sees(c, h.Camera) {
			out = append(out, newHoldJSON(h))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"holds": out})
}

// handleAddHold stores a hold: 201 with the hold and its Location.
func (s *Server) handleAddHold(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.archive(c)
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req holdRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := s.allow(c, auth.ActionAPI, req.Camera); err != nil {
		return err
	}
	h, err := s.newHold(req)
	if err != nil {
		return err
	}
	stored, err := a.AddHold(h)
	if err != nil {
		return fmt.Errorf("add hold: %w", err)
	}
	s.log.Info("hold added", "camera", stored.Camera, "hold", stored.ID, "user", c.name())
	w.Header().Set("Location", "/api/v1/holds/"+url.PathEscape(stored.ID))
	return writeJSON(w, http.StatusCreated, newHoldJSON(stored))
}

// newHold checks a hold request.
func (s *Server) newHold(req holdRequest) (storage.StoredHold, error) {
	bad := func(detail string) (storage.StoredHold, error) {
		return storage.StoredHold{}, errStatus(http.StatusBadRequest, detail)
	}
	if storage.ValidCamera(req.Camera) != nil {
		return bad("camera: invalid camera name")
	}
	from, err := settings.ParseInstant(req.From)
	if err != nil {
		return bad("from: " + err.Error())
	}
	to, err := settings.ParseInstant(req.To)
	if err != nil {
		return bad("to: " + err.Error())
	}
	if !to.After(from) {
		return bad("to must be after from")
	}
	if len(req.Reason) > storage.MaxHoldReason {
		return bad(fmt.Sprintf("reason longer than %d bytes", storage.MaxHoldReason))
	}
	return storage.StoredHold{Camera: req.Camera, From: from, To: to, Reason: req.Reason}, nil
}

// handleRemoveHold removes a hold: 204, or 404 for one that does not exist
// or that the caller may not see.
func (s *Server) handleRemoveHold(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.archive(c)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	holds, err := a.Holds("")
	if err != nil {
		return fmt.Errorf("list holds: %w", err)
	}
	i := slices.IndexFunc(holds, func(h storage.StoredHold) bool { return h.ID == id })
	if i < 0 || !s.sees(c, holds[i].Camera) {
		return errStatus(http.StatusNotFound, "no such hold")
	}
	switch err := a.RemoveHold(id); {
	case errors.Is(err, ErrNotFound), errors.Is(err, storage.ErrNotFound):
		return errStatus(http.StatusNotFound, "no such hold")
	case err != nil:
		return fmt.Errorf("remove hold: %w", err)
	}
	s.log.Info("hold removed", "camera", holds[i].Camera, "hold", id, "user", c.name())
	w.WriteHeader(http.StatusNoContent)
	return nil
}
