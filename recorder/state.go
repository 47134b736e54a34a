package recorder

import "fmt"

// RecordingState is what a recording is doing, as Recording.State reports.
type RecordingState uint8

const (
	// StateWaiting: no segment has been started yet; the recording waits
	// for the first keyframe of its reference track (and for its codec
	// parameters).
	StateWaiting RecordingState = iota
	// StateRecording: fragments are being written.
	StateRecording
	// StateStorageError: storage failed (disk full, I/O error); media is
	// dropped and counted, and a new segment is tried at the first keyframe
	// after Config.StorageRetry.
	StateStorageError
)

var stateNames = [...]string{StateWaiting: "waiting", StateRecording: "recording", StateStorageError: "storage_error"}

// String returns the state's name ("storage_error"), fit for a metric label.
func (s RecordingState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("RecordingState(%d)", uint8(s))
}
