package cluster

import "fmt"

// EventKind is what an Event reports.
type EventKind int

const (
	// EventGained: this node owns Camera at Revision from now on.
	EventGained EventKind = iota + 1
	// EventLost: this node no longer owns Camera (Revision was its fencing revision): it
	// stops recording it, and what it recorded after Fence last said ok must not carry
	// Revision as valid.
	EventLost
	// EventInDoubt: the lease entered StateInDoubt (Camera is empty). It may come up to
	// (lease_ttl - fence_margin)/3 after Fence turned false: Fence and State read the clock and are exact.
	EventInDoubt
	// EventConfirmed: etcd answered again and the lease is alive: the owned cameras were
	// checked against etcd and those still owned keep their revisions (Camera is empty).
	// Those that were taken over meanwhile got EventLost before it.
	EventConfirmed
	// EventRegistered: the node registered a lease, at start or again after its lease
	// expired (Camera is empty). It owns nothing yet; cameras it records without owning
	// them (pushed here while it could not claim them) may be claimed now.
	EventRegistered
)

var eventNames = [...]string{
	EventGained: "gained", EventLost: "lost", EventInDoubt: "in doubt", EventConfirmed: "confirmed",
	EventRegistered: "registered",
}

// String returns the kind's name.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a change of what this node owns (Camera set) or of its lease (Camera empty).
// For one camera, EventGained and EventLost alternate, starting with EventGained. Fence
// already reflects an event when it is delivered (it may be newer still).
type Event struct {
	Kind     EventKind
	Camera   string
	Revision int64
}
