//go:build interop

package bench

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/weed"
)

// TestRunPushTier runs `bench push -tier` with two cameras and 3 s
// segments against a camvault built from this tree and a real weed: both
// rounds record every frame, the tiered one uploads every sealed segment
// (its line says so, and Run fails when the backlog does not drain), and
// the camvault under test exports the tier's series that the line is made
// of. Whether it keeps up is not asserted: a busy machine may make a
// segment wait. It needs ffmpeg (named here, so that scripts/test.sh runs
// this package's interop tests alone: they stream in real time) and weed
// (scripts/test.sh builds it).
func TestRunPushTier(t *testing.T) {
	needTool(t, "ffmpeg")
	bin, err := weed.Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	exe := buildCamvault(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"push", "-tier", "-weed", bin, "-n", "2", "-duration", "10s", "-ramp", "1s", "-tier-segment", "3s",
		"-tier-scan", "200ms", "-tier-sample-every", "1s", "-cache", dir, "-camvault", exe}
	if err := Run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("Run %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, &stdout, &stderr)
	}
	t.Logf("%s", &stdout)
	for _, row := range []string{
		`(?m)^ +2 +tcp .* 500/500 +0 .*\n  load average [0-9.]+ [0-9.]+ [0-9.]+ at the start; camvault [0-9.]+ cpu-s in [0-9.]+ s\n`,
		`(?m)^ +2 +tcp\+tier .* 500/500 +0 .*\n  load average .*\n` +
			`  tier: upload [0-9.]+ MB/s \([0-9.]+ MB/s written\); backlog max [0-9]+ segments / [0-9.]+ MB, oldest waited [0-9.]+ s, [0-9]+ at the window's end; ` +
			`drained [0-9.]+ s after the streams \(([1-9][0-9]*)/([1-9][0-9]*) segments uploaded, [0-9]+ failed attempts\); weed [0-9.]+ cpu-s = [0-9.]+% of a core\n` +
			`  tiering costs camvault [-+][0-9.]+% of a core \([-+][0-9.]+% per camera\) over the round without; keeps up: `,
	} {
		m := regexp.MustCompile(row).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Errorf("no lines matching %q", row)
		} else if len(m) == 3 && m[1] != m[2] {
			t.Errorf("%s of %s segments uploaded", m[1], m[2])
		}
	}
}
