package recorder_test

import (
	"testing"

	"github.com/camvault/camvault/recorder"
)

func TestRecordingStateString(t *testing.T) {
	for _, tc := range []struct {
		s    recorder.RecordingState
		want string
	}{
		{recorder.StateWaiting, "waiting"}, {recorder.StateRecording, "recording"},
		{recorder.StateStorageError, "storage_error"}, {9, "RecordingState(9)"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("RecordingState(%d).String() = %q, want %q", uint8(tc.s), got, tc.want)
		}
	}
}
