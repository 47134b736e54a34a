// Package clip is a test-only helper: it encodes and loads clips of known
// content for tests that need real recordings (internal/interop), on top
// of the bench's clip code (bench.EncodeClip, bench.LoadClip), and reads
// back the frame numbers a NumberedFrames clip draws.
//
// Product code must never import it: cmd/camvault's TestNoTestHelpers
// fails when it is linked into the binary.
package clip

import (
	"context"
	"fmt"

	"github.com/camvault/camvault/internal/bench"
)

// Packet is one RTP packet of a clip and when it is due.
type Packet = bench.Packet

// Clip is a clip ready to be sent: tracks and all packets in send order.
type Clip = bench.Clip

// Spec describes a clip to encode.
type Spec struct {
	Seconds int
	FPS     int    // default 25
	Size    string // default "1280x720"
	Bitrate string // e.g. "3M"; "" encodes at a high fixed quality instead
	// NumberedFrames draws each frame's number into its luma: the left half
	// holds seconds*4, the right half (frame in second)*10 (see FrameNumber).
	NumberedFrames bool
	Audio          bool // an AAC 48 kHz stereo track
}

// Encode writes the clip as fragmented MP4 (a keyframe every second) to path.
func Encode(ctx context.Context, path string, s Spec) error {
	bs := bench.ClipSpec{Seconds: s.Seconds, FPS: s.FPS, Size: s.Size, Bitrate: s.Bitrate, Audio: s.Audio}
	if s.NumberedFrames {
		bs.Video = numberedSource(s.Size, s.FPS)
	}
	return bench.EncodeClip(ctx, path, bs)
}

// numberedSource is the lavfi graph of a NumberedFrames clip.
func numberedSource(size string, fps int) string {
	if fps == 0 {
		fps = 25
	}
	if size == "" {
		size = "1280x720"
	}
	return fmt.Sprintf("color=c=gray:size=%s:rate=%d,format=yuv420p,"+
		"geq=lum='if(lt(X,W/2),trunc(N/%d)*4,mod(N,%d)*10)':cb=128:cr=128", size, fps, fps, fps)
}

// Load reads a fragmented MP4 with an H.264 track and optionally an AAC
// track and packetizes it (bench.LoadClip).
func Load(path string) (*Clip, error) { return bench.LoadClip(path) }

// FrameNumber reads the number a NumberedFrames clip drew into a decoded
// 8-bit luma frame of width w.
func FrameNumber(gray []byte, w, h, fps int) int {
	left := int(gray[(h/2)*w+w/4])
	right := int(gray[(h/2)*w+3*w/4])
	return (left+2)/4*fps + (right+5)/10
}
