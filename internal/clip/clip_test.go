package clip_test

import (
	"testing"

	"github.com/camvault/camvault/internal/clip"
)

// TestFrameNumber reads numbers drawn as the Spec.NumberedFrames luma
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
