package bench

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestRunEndToEnd runs push, play, pull and live with tiny values against
// a camvault built from this tree: push and pull must record every frame
// (push also with Digest publishers and the HTTP probe, whose every
// request must be answered 200 with the bench user's token),
// play must deliver every frame without a sequence gap, live must time two
// on-demand cameras' first and second viewers and run a round of one
// camera and one of two cameras in which every viewer starts at a keyframe
// and misses nothing while every frame is recorded, and each must print
// its table. It needs ffmpeg for the clip. Pull's late column (cameras
// played after their start slot, which a loaded machine causes) may hold
// any count: only lost frames fail a run.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds camvault and runs for about 45s")
	}
	needFFmpeg(t)
	dir := t.TempDir()
	exe := buildCamvault(t, dir)
	common := []string{"-duration", "6s", "-cache", dir, "-camvault", exe}
	for _, tc := range []struct {
		name string
		args []string
		row  string // a regexp the result row matches
	}{
		{"push", []string{"push", "-n", "2", "-ramp", "1s"}, `(?m)^ +2 +tcp .* 300/300 +0 `},
		{"push with the HTTP probe, authenticated", []string{"push", "-n", "2", "-ramp", "1s", "-auth", "-http-probe", "-http-probe-every", "100ms"},
			`(?m)^ +2 +tcp\+auth .* 300/300 +0 .*\n  http GET /api/v1/cameras: [0-9]+ requests, p50 .*\n` +
				`  http GET /api/v1/cameras/\{camera\}/recordings: [0-9]+ requests, p50 .*\n  http GET /metrics: [0-9]+ requests, p50 `},
		{"play", []string{"play", "-n", "1", "-index-cameras", "1", "-index-days", "1", "-seeks", "3"},
			`(?m)^ +1 .* 150/150 +0 `},
		{"pull", []string{"pull", "-n", "2", "-ramp", "1s"}, `(?m)^ +2 +clip +tcp .* 300/300 +[0-9.]+ +[0-9]+$`},
		{"live", []string{"live", "-n", "3", "-cameras", "2", "-viewers-per-camera", "2", "-ramp", "0s", "-join", "500ms",
			"-measure", "1s", "-gop", "1s", "-on-demand", "2", "-linger", "2s"},
			`first viewer: DESCRIBE to first keyframe packet +\S+ +\S+ +\S+ +2\n(?:.*\n)*` +
				`  second viewer: DESCRIBE to first keyframe packet +\S+ +\S+ +\S+ +2\n(?:.*\n)*` +
				` +1 +3 [^\n]* 0 +0 +[0-9]+ +0 +[0-9.]+\n +2 +4 [^\n]* 0 +0 +[0-9]+ +0 +[0-9.]+\n$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := Run(ctx, append(tc.args, common...), &stdout, &stderr)
			if err != nil {
				t.Fatalf("Run %q: %v\nstdout:\n%s\nstderr:\n%s", tc.args, err, &stdout, &stderr)
			}
			if !regexp.MustCompile(tc.row).Match(stdout.Bytes()) {
				t.Errorf("Run %q printed no row matching %q:\n%s", tc.args, tc.row, &stdout)
			}
			t.Logf("%s", &stdout)
		})
	}
}

// buildCamvault builds cmd/camvault into dir and returns its path; it
// skips t without the go tool.
func buildCamvault(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	exe := filepath.Join(dir, "camvault")
	build := exec.Command(goTool, "build", "-o", exe, "./cmd/camvault")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}
