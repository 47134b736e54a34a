package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/media"
)

// benchClip is a pre-encoded clip turned into RTP once, shared read-only by
// every bench session: per-tick batches of interleaved frames (TCP) and the
// same packets as datagrams (UDP).
type benchClip struct {
	sdp         []byte
	tracks      []*media.Track
	videoFrames int
	duration    time.Duration
	bytes       int64
	batches     []batch
}

// batch is the packets due at one send time.
type batch struct {
	at          time.Duration
	interleaved []byte   // "$ ch len packet" frames back to back
	datagrams   [][]byte // RTP packets, for UDP
	streams     []int    // stream index of each datagram
}

// defaultBenchTick groups packets so that a session makes one write per
// tick: 20 ms takes a video frame and the audio due with it. A camera
// sends one write per access unit instead (tick 0).
const defaultBenchTick = 20 * time.Millisecond

// ensureClip returns the path of a cached H.264+AAC 720p25 clip of the
// given length, encoding it with ffmpeg the first time.
func ensureClip(ctx context.Context, dir string, seconds int, bitrate string) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("camvault-bench-720p25-%s-%ds.mp4", bitrate, seconds))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := path + ".tmp.mp4"
	if err := clip.Encode(ctx, tmp, clip.Spec{Seconds: seconds, Bitrate: bitrate, Audio: true}); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// loadClip packetizes the clip and groups its packets by send tick.
func loadClip(path string, tick time.Duration) (*benchClip, error) {
	c, err := clip.Load(path)
	if err != nil {
		return nil, err
	}
	return newBenchClip(c, tick), nil
}

// newBenchClip groups the packets of c by send tick; with tick 0 each
// access unit is one batch.
func newBenchClip(c *clip.Clip, tick time.Duration) *benchClip {
	bc := &benchClip{sdp: c.SDP(), tracks: c.Tracks, videoFrames: c.VideoFrames, duration: c.Duration, bytes: c.Bytes}
	for _, p := range c.Packets {
		at := p.At.Truncate(tick) // tick <= 0 keeps At
		if len(bc.batches) == 0 || bc.batches[len(bc.batches)-1].at != at {
			bc.batches = append(bc.batches, batch{at: at})
		}
		b := &bc.batches[len(bc.batches)-1]
		b.interleaved = append(b.interleaved, '$', byte(2*p.Stream), 0, 0)
		binary.BigEndian.PutUint16(b.interleaved[len(b.interleaved)-2:], uint16(len(p.Data)))
		b.interleaved = append(b.interleaved, p.Data...)
		b.datagrams = append(b.datagrams, p.Data)
		b.streams = append(b.streams, p.Stream)
	}
	return bc
}
