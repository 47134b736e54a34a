package storage

import "errors"

var (
	// ErrInvalidCamera is returned for a camera name that fails ValidCamera.
	ErrInvalidCamera = errors.New("invalid camera name")
	// ErrClosed is returned by operations on a closed Store or sealed Segment.
	ErrClosed = errors.New("storage closed")
	// ErrQueueFull is returned by Segment.Append when the write queue is full;
	// the fragment was not written.
	ErrQueueFull = errors.New("write queue full")
	// ErrCorrupt marks a segment file or index value that cannot be decoded.
	ErrCorrupt = errors.New("corrupt")
	// ErrNotFound is returned by WaitFragments when the camera has no
	// segment with the given start, and by RemoveHold for an unknown ID.
	ErrNotFound = errors.New("not found")
	// ErrNoSpace marks a segment that failed because the disk or the user's
	// quota was full (ENOSPC, EDQUOT) and Config.Reclaim could not free
	// room. Segment.Err and Segment.Append return it wrapped, with the OS
	// error also in the chain.
	ErrNoSpace = errors.New("disk full")
	// ErrInvalidRange is returned by Summaries for a time range or unit it
	// cannot answer: no start or end, an end not after the start, an
	// unknown unit, or more buckets than Config.MaxSummaryBuckets.
	ErrInvalidRange = errors.New("invalid time range")
	// ErrInvalidHold is returned by AddHold for a hold it refuses: no From,
	// a To not after From, or a Reason longer than MaxHoldReason bytes.
	ErrInvalidHold = errors.New("invalid hold")
	// ErrTooManyHolds is returned by AddHold when Config.MaxHolds holds are
	// stored already.
	ErrTooManyHolds = errors.New("too many holds")
	// ErrSegmentExists is a segment's write error when the index already
	// holds a segment of the camera with the same start.
	ErrSegmentExists = errors.New("segment already exists")
)

// Data directory identity (see Open). Each is wrapped in an error that names
// both sides and says what to do; print it as is.
var (
	// ErrWrongDataDir is returned by Open when index.db and recordings/
	// carry different data directory IDs: a restored backup or another
	// disk. Nothing was changed.
	ErrWrongDataDir = errors.New("storage: index and recordings belong to different data directories")
	// ErrNoDataDirID is returned by Open when index.db lists segments of a
	// data directory but recordings/.camvault-id is missing: the recordings
	// disk is probably not mounted. Nothing was changed.
	ErrNoDataDirID = errors.New("storage: recordings have no data directory ID")
	// ErrNewerIndex is returned by Open and Check when index.db was written
	// by a newer camvault whose index format this one cannot read.
	ErrNewerIndex = errors.New("storage: index format is newer than this camvault")
)
