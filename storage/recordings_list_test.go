package storage

import "testing"

func TestOwnFile(t *testing.T) {
	for _, tc := range []struct {
		camera, file string
		want         bool
	}{
		{"cam", "recordings/cam/2026-11-25/100000.000Z.mp4", true},
		{"cam", "recordings/cam2/2026-11-25/100000.000Z.mp4", false},
		{"cam2", "recordings/cam/2026-11-25/100000.000Z.mp4", false},
		{"cam", "recordings/cam/", false},
		{"cam", "recordings/cam", false},
		{"cam", "recordingsX/cam/x.mp4", false},
		{"cam", "other/cam/x.mp4", false},
		{"cam", "", false},
	} {
		if got := ownFile(tc.camera, tc.file); got != tc.want {
			t.Errorf("ownFile(%q, %q) = %v, want %v", tc.camera, tc.file, got, tc.want)
		}
	}
}
