package cluster

import (
	"errors"
	"fmt"
)

// State is the state of this node's lease, as far as the node knows it locally.
type State int

const (
	// StateJoining: the node has no lease yet, or lost its lease and registers again. It
	// owns nothing.
	StateJoining State = iota
	// StateLive: the last keepalive was answered and its local deadline has not passed:
	// etcd cannot have expired the lease, so the owned cameras are fenced (Fence is ok).
	StateLive
	// StateInDoubt: the local deadline passed without a new keepalive answer (etcd down, or
	// this node cut off or paused). The node keeps its cameras and keeps recording them
	// locally, but commits nothing under their revisions (Fence is not ok) and claims
	// nothing. It ends when etcd answers: the lease is alive (EventConfirmed, back to
	// StateLive) or it expired (EventLost for every camera, then StateJoining).
	StateInDoubt
	// StateStopped: Run has returned.
	StateStopped
)

var stateNames = [...]string{
	StateJoining: "joining", StateLive: "live", StateInDoubt: "in doubt", StateStopped: "stopped",
}

// String returns the state's name.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// leaseEvent is what happens to the node's lease; next gives the state it leads to.
type leaseEvent int

const (
	leaseRegistered leaseEvent = iota // a lease was granted and the node key created under it
	leaseDeadline                     // the local deadline passed without a keepalive answer
	leaseAnswered                     // a keepalive was answered (after a doubt: owners checked)
	leaseExpired                      // etcd no longer knows the lease
	leaseStop                         // Run stops
)

var leaseEventNames = [...]string{
	leaseRegistered: "registered", leaseDeadline: "deadline passed", leaseAnswered: "keepalive answered",
	leaseExpired: "lease expired", leaseStop: "stop",
}

func (e leaseEvent) String() string {
	if e >= 0 && int(e) < len(leaseEventNames) {
		return leaseEventNames[e]
	}
	return fmt.Sprintf("leaseEvent(%d)", int(e))
}

// errTransition is returned by next for an event that cannot happen in a state.
var errTransition = errors.New("cluster: invalid lease transition")

// next is the lease's state machine: the state that e leads to from s.
func next(s State, e leaseEvent) (State, error) {
	switch {
	case e == leaseStop && s != StateStopped:
		return StateStopped, nil
	case s == StateJoining && e == leaseRegistered:
		return StateLive, nil
	case s == StateLive && e == leaseDeadline:
		return StateInDoubt, nil
	case (s == StateLive || s == StateInDoubt) && e == leaseAnswered:
		return StateLive, nil
	case (s == StateLive || s == StateInDoubt) && e == leaseExpired:
		return StateJoining, nil
	}
	return s, fmt.Errorf("%w: %s in state %s", errTransition, e, s)
}

// transitionLocked moves the lease's state by e and reports the state it left; ok is false,
// and nothing changes, when e cannot happen in the current state (Run is stopping). n.mu
// is held.
func (n *Node) transitionLocked(e leaseEvent) (from State, ok bool) {
	to, err := next(n.state, e)
	if err != nil {
		return n.state, false
	}
	from, n.state = n.state, to
	return from, true
}
