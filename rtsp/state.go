package rtsp

import (
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// sessionState is the server-side presentation state of a connection or
// session [2326 App. A.2], with the "Announced" pre-state for publishers.
type sessionState uint8

const (
	// stateInit: no session and nothing announced on the connection.
	stateInit sessionState = iota
	// stateAnnounced: the connection holds an announced publication but no
	// session id exists yet (RTSP-M-10).
	stateAnnounced
	// stateReady: a play session with streams set up.
	stateReady
	// statePlaying: a play session sending media.
	statePlaying
	// stateReadyRecord: a record session with streams set up.
	stateReadyRecord
	// stateRecording: a record session accepting media.
	stateRecording
)

var stateNames = [...]string{"init", "announced", "ready", "playing", "ready-record", "recording"}

// String returns the state name used in logs.
func (s sessionState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

// event is a request that can change the state.
type event uint8

const (
	evAnnounce event = iota
	evSetupPlay
	evSetupRecord
	evPlay
	evRecord
	evPause
	evTeardown
)

var eventNames = [...]string{"ANNOUNCE", "SETUP(play)", "SETUP(record)", "PLAY", "RECORD", "PAUSE", "TEARDOWN"}

// String returns the event name.
func (e event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "invalid"
}

// transition is the outcome of an event in a state: the next state, or the
// status refusing it.
type transition struct {
	next   sessionState
	status int
}

// ok builds an accepted transition; refuse a refused one.
func ok(s sessionState) transition { return transition{next: s} }
func refuse(status int) transition { return transition{status: status} }

// Short names for the refusals of the table.
const (
	notValid   = base.StatusMethodNotValidInThisState
	notAllowed = base.StatusMethodNotAllowed
	noSession  = base.StatusSessionNotFound
)

// transitions is the state table of RTSP.md §3 ("Init ... Recording"):
// a missing entry is unreachable. TEARDOWN leads to stateInit, i.e. the
// session is gone.
var transitions = [...][7]transition{
	stateInit: {
		evAnnounce: ok(stateAnnounced), evSetupPlay: ok(stateReady), evSetupRecord: refuse(notValid),
		evPlay: refuse(noSession), evRecord: refuse(noSession),
		evPause: refuse(noSession), evTeardown: refuse(noSession),
	},
	stateAnnounced: {
		evAnnounce: refuse(notValid), evSetupPlay: refuse(notValid), evSetupRecord: ok(stateReadyRecord),
		evPlay: refuse(notValid), evRecord: refuse(notValid), evPause: refuse(notValid), evTeardown: ok(stateInit),
	},
	stateReady: {
		evAnnounce: refuse(notValid), evSetupPlay: ok(stateReady), evSetupRecord: refuse(notValid),
		evPlay: ok(statePlaying), evRecord: refuse(notAllowed), evPause: ok(stateReady), evTeardown: ok(stateInit),
	},
	statePlaying: {
		evAnnounce: refuse(notValid), evSetupPlay: refuse(notValid), evSetupRecord: refuse(notValid),
		evPlay: ok(statePlaying), evRecord: refuse(notAllowed), evPause: ok(stateReady), evTeardown: ok(stateInit),
	},
	stateReadyRecord: {
		evAnnounce: refuse(notValid), evSetupPlay: refuse(notValid), evSetupRecord: ok(stateReadyRecord),
		evPlay: refuse(notAllowed), evRecord: ok(stateRecording), evPause: ok(stateReadyRecord), evTeardown: ok(stateInit),
	},
	stateRecording: {
		evAnnounce: refuse(notValid), evSetupPlay: refuse(notValid), evSetupRecord: refuse(notValid),
		evPlay: refuse(notAllowed), evRecord: ok(stateRecording), evPause: ok(stateReadyRecord), evTeardown: ok(stateInit),
	},
}

// next returns the state after event e in state s, or an *Error carrying
// 454, 455 or 405. The caller applies the new state only after the request
// succeeded (RTSP.md §3: "4xx leaves state unchanged").
func next(s sessionState, e event) (sessionState, error) {
	if int(s) >= len(transitions) || int(e) >= len(transitions[s]) {
		return s, base.NewError(base.StatusInternalServerError, "invalid state or event", nil)
	}
	t := transitions[s][e]
	if t.status != 0 {
		return s, base.NewError(t.status, e.String()+" in state "+s.String(), nil)
	}
	return t.next, nil
}

// eventMethods maps each event to the method that triggers it.
var eventMethods = [...]base.Method{base.MethodAnnounce, base.MethodSetup, base.MethodSetup, base.MethodPlay, base.MethodRecord, base.MethodPause, base.MethodTeardown}

// allowedMethods returns the Allow header value for state s: the
// state-independent methods plus every method with a valid event in s
// (RTSP-M-40, [2326 §11.3.6]).
func allowedMethods(s sessionState) string {
	list := []string{string(base.MethodOptions), string(base.MethodDescribe)}
	seen := map[base.Method]bool{}
	for e := range eventMethods {
		m := eventMethods[e]
		if _, err := next(s, event(e)); err == nil && !seen[m] {
			seen[m] = true
			list = append(list, string(m))
		}
	}
	list = append(list, string(base.MethodGetParameter), string(base.MethodSetParameter))
	return strings.Join(list, ", ")
}
