package auth

import "fmt"

// Action is what a permission allows.
type Action int

// The actions. The zero Action is invalid.
const (
	// ActionPublish: push a camera (ANNOUNCE/RECORD), and take over a
	// camera's recording.
	ActionPublish Action = iota + 1
	// ActionRead: watch a camera live.
	ActionRead
	// ActionPlayback: replay a camera's archive.
	ActionPlayback
	// ActionAPI: use the HTTP management API.
	ActionAPI
	// ActionMetrics: read /metrics.
	ActionMetrics
)

var actionNames = [...]string{
	ActionPublish:  "publish",
	ActionRead:     "read",
	ActionPlayback: "playback",
	ActionAPI:      "api",
	ActionMetrics:  "metrics",
}

// String returns the action's configuration name, e.g. "publish".
func (a Action) String() string {
	if a > 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ParseAction returns the action named s ("publish", "read", "playback",
// "api" or "metrics"), or ErrAction.
func ParseAction(s string) (Action, error) {
	for a, name := range actionNames {
		if a > 0 && name == s {
			return Action(a), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want publish, read, playback, api or metrics)", ErrAction, s)
}

// cameraScoped reports whether the action is about one camera, and so
// needs camera globs.
func (a Action) cameraScoped() bool {
	return a == ActionPublish || a == ActionRead || a == ActionPlayback
}
