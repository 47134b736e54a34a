package clip_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/bench"
	"github.com/camvault/camvault/internal/clip"
)

// TestFrameNumber reads numbers drawn as a Numbered clip's luma
// (left half seconds*4, right half frame-in-second*10), with the small
// errors a lossy encode leaves.
func TestFrameNumber(t *testing.T) {
	const w, h, fps = 8, 2, 25
	for _, tc := range []struct {
		left, right byte
		want        int
	}{
		{0, 0, 0},
		{120, 0, 750},
		{121, 11, 751},
		{77, 238, 499},
		{252, 240, 63*25 + 24},
		{118, 8, 30*25 + 1},
	} {
		gray := make([]byte, w*h)
		for x := range w {
			v := tc.left
			if x >= w/2 {
				v = tc.right
			}
			gray[(h/2)*w+x] = v
		}
		if got := clip.FrameNumber(gray, w, h, fps); got != tc.want {
			t.Errorf("left %d right %d: frame %d, want %d", tc.left, tc.right, got, tc.want)
		}
	}
}

// TestEncodeNumbered encodes a short Numbered clip and checks that bench.LoadClip gives its
// one video track at the asked size and rate.
func TestEncodeNumbered(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ffmpeg is required in CI: %v", err)
		}
		t.Skipf("ffmpeg not found: %v", err)
	}
	path := filepath.Join(t.TempDir(), "numbered.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bench.EncodeClip(ctx, path, clip.Numbered(1, 10, "160x120")); err != nil {
		t.Fatal(err)
	}
	c, err := bench.LoadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tracks) != 1 || c.Tracks[0].Width != 160 || c.VideoFrames != 10 {
		t.Errorf("%d tracks, width %d, %d frames; want 1, 160, 10", len(c.Tracks), c.Tracks[0].Width, c.VideoFrames)
	}
}
