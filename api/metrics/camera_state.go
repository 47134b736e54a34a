package metrics

import (
	"strconv"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
)

// CameraState is the value of camvault_camera_state: one series per camera whose value says
// what the camera is doing, so that a state change never creates a series.
type CameraState int

// Camera states, as camvault_camera_state reports them.
const (
	// StateIdle: no recording is open and no pull is under way.
	StateIdle CameraState = iota
	// StateConnecting: a pull is dialling the camera or setting up its session.
	StateConnecting
	// StateBackingOff: the last pull failed; it is retried later.
	StateBackingOff
	// StateRecording: a recording is open.
	StateRecording
	// StateStorageError: a recording is open but storage failed; media is dropped until a
	// retry succeeds.
	StateStorageError
)

var cameraStateNames = [...]string{
	StateIdle:         "idle",
	StateConnecting:   "connecting",
	StateBackingOff:   "backing_off",
	StateRecording:    "recording",
	StateStorageError: "storage_error",
}

// String returns the state's name ("backing_off").
func (s CameraState) String() string {
	if s >= 0 && int(s) < len(cameraStateNames) {
		return cameraStateNames[s]
	}
	return "CameraState(" + strconv.Itoa(int(s)) + ")"
}

// cameraState combines what the recorder and the pull (nil for either that does not know
// the camera) say about a camera: an open recording wins over the pull's view.
func cameraState(rs *recorder.CameraStats, ps *ingest.CameraState) CameraState {
	switch {
	case rs != nil && rs.Active && rs.StorageError:
		return StateStorageError
	case rs != nil && rs.Active:
		return StateRecording
	case ps == nil:
		return StateIdle
	}
	switch ps.State {
	case ingest.PullConnecting:
		return StateConnecting
	case ingest.PullRecording:
		return StateRecording
	case ingest.PullBackingOff:
		return StateBackingOff
	}
	return StateIdle
}
