package recorder

import "errors"

var (
	// ErrBusy is returned by Open when the camera is already recording.
	ErrBusy = errors.New("camera is already recording")
	// ErrClosed is returned by Open after Close.
	ErrClosed = errors.New("recorder closed")
	// ErrNoTracks is returned by Open for a presentation without a usable track.
	ErrNoTracks = errors.New("no recordable track")
	// ErrMemoryExhausted is returned by Open while the media buffered by all
	// recordings (open fragments and fragments queued to storage) leaves less
	// than one recording's budget (Config.MaxRecordingBuffer) of the process
	// budget (Config.MaxBuffer). It is temporary: Open succeeds again once
	// storage has written enough.
	ErrMemoryExhausted = errors.New("recorder memory budget exhausted")
	// ErrOverBudget is what Recording.Err returns after a recording ended
	// itself because its buffered media would have exceeded
	// Config.MaxRecordingBuffer, or the process's Config.MaxBuffer.
	ErrOverBudget = errors.New("recording over its memory budget")
	// ErrClockRacing is what Recording.Err returns after a recording ended
	// itself because its timestamps ran ahead of the server clock or jumped
	// more than Config.ClockRaceLimit times within Config.ClockRaceWindow.
	ErrClockRacing = errors.New("recording timestamps race ahead of the server clock")
)
