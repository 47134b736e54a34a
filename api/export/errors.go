package export

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Errors that ServeExport returns wrapped in an *Error, for callers that
// branch on them with errors.Is.
var (
	// ErrNoRecording: nothing of the camera is recorded in the window (404).
	ErrNoRecording = errors.New("nothing recorded in the window")
	// ErrBadRequest: the window or format cannot be served as asked (400):
	// an unknown format, an end not after start, a window longer than
	// Options.MaxDuration, or more samples than Options.MaxSamples.
	ErrBadRequest = errors.New("bad export request")
	// ErrCodecChange: the tracks or their sample entries change inside the
	// window (409); the message names the instant of the change, and a
	// window that ends before it or starts after it can be exported.
	ErrCodecChange = errors.New("codec parameters change inside the window")
	// ErrUnreadable: a segment could not be read or parsed (500).
	ErrUnreadable = errors.New("recording unreadable")
	// ErrPrecondition: the request's If-Match or If-Unmodified-Since does
	// not hold for the export (412).
	ErrPrecondition = errors.New("precondition failed: the export's bytes are not the ones named")
	// ErrRange: no range of the request's Range header overlaps the export
	// (416); the Content-Range header gives the export's size.
	ErrRange = errors.New("range not satisfiable")
	// ErrBusy: Options.MaxConcurrent exports are running (503); try again
	// after Error.RetryAfter.
	ErrBusy = errors.New("too many exports running")
)

// busyRetryAfter is the Retry-After of ErrBusy: a progressive export of an
// hour is sent in well under it from the page cache.
const busyRetryAfter = 5 * time.Second

// Error is what ServeExport returns when it wrote nothing: Status is the HTTP
// status the caller should answer with, and Err says why (it wraps one of
// the sentinels above). The message carries no file paths.
type Error struct {
	Status int
	Err    error
}

// Error returns the reason, fit for an API user.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the HTTP status code of the error.
func (e *Error) HTTPStatus() int { return e.Status }

// RetryAfter returns how long the client should wait before it asks again
// (ErrBusy), or 0.
func (e *Error) RetryAfter() time.Duration {
	if errors.Is(e.Err, ErrBusy) {
		return busyRetryAfter
	}
	return 0
}

// statusOf maps the package's sentinels to HTTP statuses: the one place that
// does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoRecording):
		return http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrCodecChange):
		return http.StatusConflict
	case errors.Is(err, ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrRange):
		return http.StatusRequestedRangeNotSatisfiable
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail wraps err in an *Error with its status.
func fail(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Status: statusOf(err), Err: err}
}

// unreadable logs cause, which may name files, and returns an ErrUnreadable
// that names only what was being read.
func (s *Server) unreadable(what, camera string, cause error) error {
	s.log.Warn("export read failed", "camera", camera, "what", what, "err", cause)
	return fmt.Errorf("%w: %s", ErrUnreadable, what)
}
