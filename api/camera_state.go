package api

import "strconv"

// CameraState is what a camera is doing.
type CameraState int

// The camera states.
const (
	// StateIdle: nothing is recorded (no publisher, or outside the pull's
	// schedule).
	StateIdle CameraState = iota
	// StateRecording: media flows into the recording.
	StateRecording
	// StateConnecting: a pull is dialling or setting up.
	StateConnecting
	// StateBackingOff: a pull failed and waits for its next try.
	StateBackingOff
	// StateStorageError: the recording cannot write.
	StateStorageError
)

var cameraStateNames = [...]string{
	StateIdle:         "idle",
	StateRecording:    "recording",
	StateConnecting:   "connecting",
	StateBackingOff:   "backing-off",
	StateStorageError: "storage_error",
}

// String returns the state's API name: "idle", "recording", "connecting",
// "backing-off" or "storage_error".
func (s CameraState) String() string {
	if s >= 0 && int(s) < len(cameraStateNames) {
		return cameraStateNames[s]
	}
	return "CameraState(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String, for JSON.
func (s CameraState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
