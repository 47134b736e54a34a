package api

import (
	"strconv"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
)

// CameraState is what a camera is doing: the state of the API's camera
// answers, and the value of the camvault_camera_state metric (api/metrics),
// so that the two never disagree. The numbers are the metric's values; add
// new states at the end.
type CameraState int

// The camera states.
const (
	// StateIdle: nothing is recorded (no publisher, or outside the pull's
	// schedule).
	StateIdle CameraState = iota
	// StateConnecting: a pull is dialling or setting up.
	StateConnecting
	// StateBackingOff: a pull failed and waits for its next try.
	StateBackingOff
	// StateRecording: media flows into the recording.
	StateRecording
	// StateStorageError: a recording is open but storage refuses its
	// fragments; media is dropped until a retry succeeds.
	StateStorageError
	// StateLive: a pull is connected for live viewers only (outside its
	// recording windows, or an on-demand camera); nothing is recorded.
	StateLive
)

var cameraStateNames = [...]string{
	StateIdle:         "idle",
	StateConnecting:   "connecting",
	StateBackingOff:   "backing_off",
	StateRecording:    "recording",
	StateStorageError: "storage_error",
	StateLive:         "live",
}

// String returns the state's API name: "idle", "connecting",
// "backing_off", "recording", "storage_error" or "live".
func (s CameraState) String() string {
	if s >= 0 && int(s) < len(cameraStateNames) {
		return cameraStateNames[s]
	}
	return "CameraState(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String, for JSON.
func (s CameraState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// CameraStateOf combines what the recorder and the pull say about a camera
// (nil for either that does not know it): an open recording wins over the
// pull's view. The API's camera answers and the metrics both use it.
func CameraStateOf(rs *recorder.CameraStats, ps *ingest.CameraState) CameraState {
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
	case ingest.PullLive:
		return StateLive
	}
	return StateIdle
}
