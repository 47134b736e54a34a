package auth

import "fmt"

// Action is what a permission allows.
type Action int

// The actions. The zero Action is invalid.
const (
	// ActionPublish allows pushing a camera (ANNOUNCE/RECORD), and taking
	// over a camera's recording.
	ActionPublish Action = iota + 1
	// ActionRead allows watching a camera live.
	ActionRead
	// ActionPlayback allows replaying a camera's archive.
	ActionPlayback
	// ActionAPI allows using the HTTP management API: on every camera
	// when its permission lists no cameras, else on the cameras its globs
	// match.
	ActionAPI
	// ActionMetrics allows reading /metrics.
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

// cameraScoped reports whether the action is about one camera and so
// checks camera globs. ActionAPI is scoped only when its permission has
// globs (see rights.allows).
func (a Action) cameraScoped() bool {
	return a == ActionPublish || a == ActionRead || a == ActionPlayback || a == ActionAPI
}

// needsCameras reports whether a permission of the action must list
// camera globs.
func (a Action) needsCameras() bool { return a.cameraScoped() && a != ActionAPI }
