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
	// segment with the given start.
	ErrNotFound = errors.New("segment not found")
	// ErrNoSpace marks a segment that failed because the disk or the user's
	// quota was full (ENOSPC, EDQUOT) and Config.Reclaim could not free
	// room. Segment.Err and Segment.Append return it wrapped, with the OS
	// error also in the chain.
	ErrNoSpace = errors.New("disk full")
	// ErrSegmentExists is a segment's write error when the index already
	// holds a segment of the camera with the same start.
	ErrSegmentExists = errors.New("segment already exists")
)
