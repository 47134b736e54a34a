package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
)

// TestEncodeAndLoadClip encodes a one-second clip like the bench's, smaller,
// and checks what LoadClip makes of it: H.264 and AAC tracks, 25 frames in
// one second, packets in send order on both streams.
func TestEncodeAndLoadClip(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := EncodeClip(ctx, path, ClipSpec{Seconds: 1, Size: "320x240", Bitrate: "500k", Audio: true}); err != nil {
		t.Fatal(err)
	}
	c, err := LoadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tracks) != 2 || c.Tracks[0].Codec != media.CodecH264 || c.Tracks[1].Codec != media.CodecAAC ||
		c.Tracks[0].Width != 320 || c.Tracks[1].ClockRate != 48000 || c.Tracks[1].Channels != 2 {
		t.Fatalf("tracks %+v %+v", c.Tracks[0], c.Tracks[1])
	}
	if c.VideoFrames != 25 || c.Duration < time.Second || c.Duration > 1100*time.Millisecond {
		t.Errorf("%d frames in %v, want 25 in 1s", c.VideoFrames, c.Duration) // ffmpeg's last frame lasts a little longer
	}
	if !slices.IsSortedFunc(c.Packets, func(a, b Packet) int { return int(a.At - b.At) }) {
		t.Error("packets are not in send order")
	}
	var perStream [2]int
	var bytes int64
	for _, p := range c.Packets {
		perStream[p.Stream]++
		bytes += int64(len(p.Data))
	}
	if perStream[0] < 25 || perStream[1] == 0 || bytes != c.Bytes {
		t.Errorf("packets per stream %v, %d bytes (Bytes %d)", perStream, bytes, c.Bytes)
	}
	if _, err := media.TracksFromSDP(c.SDP(), media.SDPLimits{}); err != nil {
		t.Errorf("clip SDP: %v", err)
	}
	// ensureClip finds an encoded clip by name and does not encode again.
	dir := filepath.Dir(path)
	if err := os.Rename(path, benchClipPath(dir, 1, "500k", 25)); err != nil {
		t.Fatal(err)
	}
	if got, err := ensureClip(ctx, dir, 1, "500k", 25); err != nil || got != benchClipPath(dir, 1, "500k", 25) {
		t.Errorf("ensureClip = %q, %v", got, err)
	}
}
