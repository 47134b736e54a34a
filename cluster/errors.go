package cluster

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidName is returned for a camera or node name that is not
	// [A-Za-z0-9][A-Za-z0-9._-]{0,63}.
	ErrInvalidName = errors.New("cluster: invalid name")
	// ErrUnavailable is returned by Claim and Takeover when the node cannot claim now: it
	// is not registered, its lease is in doubt (etcd unreachable or the node cut off), or
	// it is stopping. The caller records nothing new; it may try again later.
	ErrUnavailable = errors.New("cluster: no confirmed lease")
	// ErrNotOwner is returned by Verify when the revision no longer owns the camera, and by
	// Takeover when the owner changed while it was taking over.
	ErrNotOwner = errors.New("cluster: not the owner")
	// ErrUnclaimed is returned by Confirm when the camera has no owner now: what was
	// recorded in doubt cannot be confirmed before this node claims the camera.
	ErrUnclaimed = errors.New("cluster: camera not claimed")
)

// OwnedError is returned by Claim when another node owns the camera: the caller redirects
// its client to Owner (302, or an RTSP REDIRECT), or takes the camera over with Takeover.
type OwnedError struct {
	Camera string
	Owner  Owner
}

// Error implements error.
func (e *OwnedError) Error() string {
	return fmt.Sprintf("cluster: camera %s is owned by node %s (revision %d)", e.Camera, e.Owner.Node, e.Owner.Revision)
}
