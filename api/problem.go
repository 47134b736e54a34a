package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/camvault/camvault/storage"
)

// problem is an RFC 9457 problem details object, the body of every 4xx and
// 5xx answer (application/problem+json). Type is "about:blank" and Title
// the status text: the status says what kind of problem it is, Detail
// what went wrong for this request.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// statusError is an error with the HTTP status it answers; handlers return
// it and ServeHTTP writes the problem (one place maps errors to statuses).
type statusError struct {
	status int
	detail string
	// retryAfter, when positive, is sent as Retry-After.
	retryAfter time.Duration
	// challenge adds the WWW-Authenticate challenges (401).
	challenge bool
}

func (e *statusError) Error() string { return strconv.Itoa(e.status) + " " + e.detail }

// errStatus returns a *statusError.
func errStatus(status int, detail string) error {
	return &statusError{status: status, detail: detail, challenge: status == http.StatusUnauthorized}
}

// Errors common to several handlers.
var (
	errNotAvailable = errStatus(http.StatusServiceUnavailable, "not available: this part of camvault is not running")
)

// httpStatuser is an error that knows its HTTP status (the exporter's).
type httpStatuser interface {
	error
	HTTPStatus() int
}

// retryAfterer is an error that says when to ask again (the exporter's
// 503 when busy).
type retryAfterer interface {
	error
	RetryAfter() time.Duration
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up.
func setRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// writeProblem writes err as a problem: a *statusError or an error with
// HTTPStatus as it says, anything else as 500 without its text (errors
// reaching API users carry no paths).
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := problem{Type: "about:blank", Status: http.StatusInternalServerError, Instance: r.URL.Path}
	se, isStatus := errors.AsType[*statusError](err)
	hs, isHTTP := errors.AsType[httpStatuser](err)
	switch {
	case isStatus:
		p.Status, p.Detail = se.status, se.detail
		if se.challenge {
			w.Header().Add("WWW-Authenticate", `Basic realm="camvault", charset="UTF-8"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="camvault"`)
		}
		if se.retryAfter > 0 {
			setRetryAfter(w.Header(), se.retryAfter)
		}
	case isHTTP && hs.HTTPStatus() >= 400 && hs.HTTPStatus() <= 599:
		p.Status, p.Detail = hs.HTTPStatus(), err.Error()
		if ra, ok := errors.AsType[retryAfterer](err); ok && ra.RetryAfter() > 0 {
			setRetryAfter(w.Header(), ra.RetryAfter())
		}
	case storageStatus(err) != 0:
		p.Status, p.Detail = storageStatus(err), err.Error()
	default:
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
		p.Detail = "internal error; the server log has the cause"
	}
	p.Title = http.StatusText(p.Status)
	body, _ := json.Marshal(p) // a struct of strings and an int always marshals
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Disposition")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n')) // the client went away: nothing to do
}

// storageStatus is the status of storage's refusals of a request: 400 for a bad camera, window
// or hold, 404 for an unknown hold, 409 when the holds are at storage's limits; 0 for any other
// error (a 500).
func storageStatus(err error) int {
	switch {
	case errors.Is(err, storage.ErrTooManyHolds):
		return http.StatusConflict
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, storage.ErrInvalidCamera), errors.Is(err, storage.ErrInvalidRange), errors.Is(err, storage.ErrInvalidHold):
		return http.StatusBadRequest
	}
	return 0
}
