package metrics

import (
	"testing"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
)

func TestCameraStateString(t *testing.T) {
	for s, want := range map[CameraState]string{
		StateIdle: "idle", StateConnecting: "connecting", StateBackingOff: "backing_off",
		StateRecording: "recording", StateStorageError: "storage_error", 5: "CameraState(5)", -1: "CameraState(-1)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
}

func TestCameraStateCombines(t *testing.T) {
	active := &recorder.CameraStats{Active: true}
	failing := &recorder.CameraStats{Active: true, StorageError: true}
	ended := &recorder.CameraStats{}
	pull := func(s ingest.PullState) *ingest.CameraState { return &ingest.CameraState{State: s} }
	for _, tc := range []struct {
		name string
		rs   *recorder.CameraStats
		ps   *ingest.CameraState
		want CameraState
	}{
		{"unknown", nil, nil, StateIdle},
		{"pushed, recording", active, nil, StateRecording},
		{"pushed, storage failed", failing, nil, StateStorageError},
		{"pushed, ended", ended, nil, StateIdle},
		{"pulled, idle", nil, pull(ingest.PullIdle), StateIdle},
		{"pulled, connecting", ended, pull(ingest.PullConnecting), StateConnecting},
		{"pulled, backing off", ended, pull(ingest.PullBackingOff), StateBackingOff},
		{"pulled, recording", active, pull(ingest.PullRecording), StateRecording},
		{"pulled, recording opens", nil, pull(ingest.PullRecording), StateRecording},
		{"pulled, storage failed", failing, pull(ingest.PullRecording), StateStorageError},
	} {
		if got := cameraState(tc.rs, tc.ps); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
