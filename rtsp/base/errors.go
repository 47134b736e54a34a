package base

import (
	"errors"
	"strconv"
)

// Error carries an RTSP status for a failure. Handlers return it to choose
// the status of the response; the codec returns it so that the server knows
// which status to answer before closing a connection.
type Error struct {
	// Status is the RTSP status code, e.g. 404.
	Status int
	// Reason is a short lowercase explanation; it is logged, not sent.
	Reason string
	// Phrase, when set, replaces the standard reason phrase of the status
	// line (e.g. "Camera Not Found" for a 404). Clients key on the number
	// (RTSP-MSG-11); the phrase tells a person which case it is. It must
	// be printable ASCII without CR or LF.
	Phrase string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	s := "rtsp " + strconv.Itoa(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// NewError builds an *Error with the status, reason and underlying error.
func NewError(status int, reason string, err error) *Error {
	return &Error{Status: status, Reason: reason, Err: err}
}

// Decoding errors. They are wrapped in an *Error that carries the status the
// server answers with.
var (
	// ErrLineTooLong is returned when a request, status or header line
	// exceeds its limit (SEC-01).
	ErrLineTooLong = errors.New("line too long")
	// ErrURLTooLong is returned when a Request-URI exceeds Limits.MaxURL (414).
	ErrURLTooLong = errors.New("url too long")
	// ErrHeaderTooLarge is returned when the header block exceeds
	// Limits.MaxHeaderBytes or Limits.MaxHeaders.
	ErrHeaderTooLarge = errors.New("header block too large")
	// ErrBodyTooLarge is returned when Content-Length exceeds Limits.MaxBody (413).
	ErrBodyTooLarge = errors.New("body too large")
	// ErrDuplicateHeader is returned for a repeated CSeq, Content-Length,
	// Session or Transport header (SEC-11).
	ErrDuplicateHeader = errors.New("duplicate header")
	// ErrMalformed is returned for any other syntax error.
	ErrMalformed = errors.New("malformed message")
	// ErrFrameTooLarge is returned by InterleavedFrame.Unmarshal when the
	// payload does not fit the caller's buffer; the frame has been skipped
	// and the stream is still in sync (RTSP-IL-01).
	ErrFrameTooLarge = errors.New("interleaved frame too large")
)
