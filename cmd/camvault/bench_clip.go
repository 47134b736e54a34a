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

// benchTick groups packets so that a session makes one write per tick.
const benchTick = 20 * time.Millisecond

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
func loadClip(path string) (*benchClip, error) {
	c, err := clip.Load(path)
	if err != nil {
		return nil, err
	}
	bc := &benchClip{sdp: c.SDP(), tracks: c.Tracks, videoFrames: c.VideoFrames, duration: c.Duration, bytes: c.Bytes}
	for _, p := range c.Packets {
		at := p.At.Truncate(benchTick)
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
	return bc, nil
}
