package cluster

import (
	"errors"
	"testing"
)

// TestNext: every edge of the lease's state machine, and every pair that is not one.
func TestNext(t *testing.T) {
	edges := map[State]map[leaseEvent]State{
		StateJoining: {leaseRegistered: StateLive, leaseStop: StateStopped},
		StateLive: {leaseDeadline: StateInDoubt, leaseAnswered: StateLive, leaseExpired: StateJoining,
			leaseStop: StateStopped},
		StateInDoubt: {leaseAnswered: StateLive, leaseExpired: StateJoining, leaseStop: StateStopped},
		StateStopped: {},
	}
	for s, out := range edges {
		for e := leaseRegistered; e <= leaseStop; e++ {
			got, err := next(s, e)
			want, valid := out[e]
			switch {
			case valid && (err != nil || got != want):
				t.Errorf("next(%s, %s) = %s, %v; want %s", s, e, got, err, want)
			case !valid && (!errors.Is(err, errTransition) || got != s):
				t.Errorf("next(%s, %s) = %s, %v; want an invalid transition", s, e, got, err)
			}
		}
	}
	if got := leaseEvent(9).String(); got != "leaseEvent(9)" {
		t.Errorf("String of an unknown event: %q", got)
	}
}
