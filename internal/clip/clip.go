// Package clip is a test-only helper for clips whose frames carry their number: [Numbered]
// describes one for the bench's encoder (bench.EncodeClip, then bench.LoadClip packetizes it
// like any bench clip), and [FrameNumber] reads the number back from a decoded frame. The
// interop tests use it to check which frame a player got.
//
// Product code must never import it: cmd/camvault's TestNoProductImportsTestHelper and
// TestBinaryHasNoTestHelpers fail when it is imported or linked into the binary.
package clip

import (
	"fmt"

	"github.com/camvault/camvault/internal/bench"
)

// Numbered returns the spec of a video-only clip of the given length, frame rate and size
// (WxH) whose frames draw their number into their luma: the left half holds seconds×4, the
// right half (frame in second)×10 (see FrameNumber). It is encoded at a high fixed quality.
func Numbered(seconds, fps int, size string) bench.ClipSpec {
	video := fmt.Sprintf("color=c=gray:size=%s:rate=%d,format=yuv420p,"+
		"geq=lum='if(lt(X,W/2),trunc(N/%d)*4,mod(N,%d)*10)':cb=128:cr=128", size, fps, fps, fps)
	return bench.ClipSpec{Seconds: seconds, FPS: fps, Size: size, Video: video}
}

// FrameNumber reads the number a Numbered clip drew into a decoded 8-bit luma frame of width w
// and height h.
func FrameNumber(gray []byte, w, h, fps int) int {
	left := int(gray[(h/2)*w+w/4])
	right := int(gray[(h/2)*w+3*w/4])
	return (left+2)/4*fps + (right+5)/10
}
