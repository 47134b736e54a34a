package storage

import "fmt"

// DeleteReason says which retention rule deleted a segment.
type DeleteReason uint8

const (
	// ReasonMaxAge: the segment ended longer than the camera's MaxAge ago.
	ReasonMaxAge DeleteReason = iota + 1
	// ReasonMaxBytes: the camera's segments took more than its MaxBytes.
	ReasonMaxBytes
	// ReasonMinFree: the file system had less free space than the floor.
	ReasonMinFree
	// ReasonReclaim: Reclaim freed space for a write that found the disk full.
	ReasonReclaim
	// ReasonUploadedMaxAge: the segment's object is in the object store and
	// its local copy ended longer than the camera's UploadedMaxAge ago.
	ReasonUploadedMaxAge
)

// numReasons sizes per-reason counters: reasons index them directly.
const numReasons = int(ReasonUploadedMaxAge) + 1

var reasonNames = [numReasons]string{
	ReasonMaxAge:         "max_age",
	ReasonMaxBytes:       "max_bytes",
	ReasonMinFree:        "min_free",
	ReasonReclaim:        "reclaim",
	ReasonUploadedMaxAge: "uploaded_max_age",
}

// String returns the reason's config-style name ("max_age", "max_bytes",
// "min_free", "reclaim", "uploaded_max_age"), used in logs and metrics labels.
func (r DeleteReason) String() string {
	if int(r) < numReasons && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return fmt.Sprintf("DeleteReason(%d)", uint8(r))
}

// NumDeleteReasons sizes CameraCounters.Deleted, which a DeleteReason
// indexes (index 0 is unused).
const NumDeleteReasons = numReasons
