package api_test

import (
	"testing"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
)

// TestCameraStateString: one snake_case spelling, the metric's numbers
// (review finding 13: the API said "backing-off", the metrics
// "backing_off").
func TestCameraStateString(t *testing.T) {
	for s, want := range map[api.CameraState]string{
		api.StateIdle: "idle", api.StateConnecting: "connecting", api.StateBackingOff: "backing_off",
		api.StateRecording: "recording", api.StateStorageError: "storage_error", api.StateLive: "live", 6: "CameraState(6)", -1: "CameraState(-1)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
	for s, n := range map[api.CameraState]int{api.StateIdle: 0, api.StateConnecting: 1, api.StateBackingOff: 2, api.StateRecording: 3, api.StateStorageError: 4} {
		if int(s) != n {
			t.Errorf("%v is %d; camvault_camera_state documents %d", s, int(s), n)
		}
	}
}

func TestCameraStateOf(t *testing.T) {
	active := &recorder.CameraStats{Active: true}
	failing := &recorder.CameraStats{Active: true, StorageError: true}
	ended := &recorder.CameraStats{}
	pull := func(s ingest.PullState) *ingest.CameraState { return &ingest.CameraState{State: s} }
	for _, tc := range []struct {
		name string
		rs   *recorder.CameraStats
		ps   *ingest.CameraState
		want api.CameraState
	}{
		{"unknown", nil, nil, api.StateIdle},
		{"pushed, recording", active, nil, api.StateRecording},
		{"pushed, storage failed", failing, nil, api.StateStorageError},
		{"pushed, ended", ended, nil, api.StateIdle},
		{"pulled, idle", nil, pull(ingest.PullIdle), api.StateIdle},
		{"pulled, connecting", ended, pull(ingest.PullConnecting), api.StateConnecting},
		{"pulled, backing off", ended, pull(ingest.PullBackingOff), api.StateBackingOff},
		{"pulled, recording", active, pull(ingest.PullRecording), api.StateRecording},
		{"pulled, recording opens", nil, pull(ingest.PullRecording), api.StateRecording},
		{"pulled, storage failed", failing, pull(ingest.PullRecording), api.StateStorageError},
	} {
		if got := api.CameraStateOf(tc.rs, tc.ps); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
