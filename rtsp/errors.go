package rtsp

import "errors"

// Reasons passed to Publication.Close and Presentation.Close. Callers may
// branch on them with errors.Is to tell a clean end from a failure.
var (
	// ErrTeardown: the publisher sent TEARDOWN.
	ErrTeardown = errors.New("teardown")
	// ErrSessionTimeout: no request or RTCP within the session timeout
	// plus grace (RTSP-SES-04, RTSP-SES-06).
	ErrSessionTimeout = errors.New("session timeout")
	// ErrMediaTimeout: a recording session received no RTP or RTCP for
	// Config.MediaTimeout (RTSP-M-33).
	ErrMediaTimeout = errors.New("media timeout")
	// ErrConnClosed: the control connection closed (TCP-interleaved
	// sessions and announced-but-not-set-up publications end with it).
	ErrConnClosed = errors.New("connection closed")
	// ErrServerClosed: the server is shutting down.
	ErrServerClosed = errors.New("server closed")
	// ErrPanic: a Publication method panicked; the stack was logged.
	ErrPanic = errors.New("handler panic")
	// ErrSlowClient: a viewer did not read its TCP connection fast
	// enough: Output.WriteRTP waited Config.WriteTimeout for queue space,
	// or a write to the connection timed out (SEC-07). Output returns it
	// and Presentation.Close receives it.
	ErrSlowClient = errors.New("slow client")
	// ErrKicked: an operator ended the session with Server.Kick.
	ErrKicked = errors.New("kicked")
)

// ErrSessionClosed is returned by Output after its session ended.
var ErrSessionClosed = errors.New("session closed")

// ErrSessionNotFound is returned by Server.Kick for an id that names no
// live session: unknown, malformed, or already ended.
var ErrSessionNotFound = errors.New("rtsp session not found")

// publicMethods is the Public header of OPTIONS responses (RTSP-M-01, RTSP-M-03).
const publicMethods = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
