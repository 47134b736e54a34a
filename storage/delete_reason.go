package storage

import "fmt"

// DeleteReason says why a segment was deleted; it indexes
// CameraCounters.Deleted.
type DeleteReason uint8

const (
	// DeleteMaxAge: the segment was older than the camera's max_age.
	DeleteMaxAge DeleteReason = iota
	// DeleteMaxBytes: the camera held more than its max_bytes.
	DeleteMaxBytes
	// DeleteMinFree: the filesystem had less free space than min_free.
	DeleteMinFree
	// DeleteReclaim: a write failed for lack of space and Config.Reclaim
	// freed room for it.
	DeleteReclaim
	// NumDeleteReasons is the number of reasons, the length of
	// CameraCounters.Deleted.
	NumDeleteReasons
)

var deleteReasonNames = [...]string{DeleteMaxAge: "max_age", DeleteMaxBytes: "max_bytes",
	DeleteMinFree: "min_free", DeleteReclaim: "reclaim"}

// String returns the reason's config-style name ("max_age"), fit for a
// metric label.
func (r DeleteReason) String() string {
	if int(r) < len(deleteReasonNames) {
		return deleteReasonNames[r]
	}
	return fmt.Sprintf("DeleteReason(%d)", uint8(r))
}
