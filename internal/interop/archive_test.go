//go:build interop

package interop

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/bench"
	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

const (
	numberedW   = 320
	numberedH   = 240
	numberedFPS = 25
)

var (
	numberedOnce sync.Map // seconds -> *bench.Clip
)

// numberedClip returns a cached H.264 clip whose frames carry their number.
func numberedClip(t *testing.T, seconds int) *bench.Clip {
	t.Helper()
	if c, ok := numberedOnce.Load(seconds); ok {
		return c.(*bench.Clip)
	}
	needTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "numbered.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := bench.EncodeClip(ctx, path, clip.Numbered(seconds, numberedFPS, fmt.Sprintf("%dx%d", numberedW, numberedH))); err != nil {
		t.Fatal(err)
	}
	c, err := bench.LoadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	numberedOnce.Store(seconds, c)
	return c
}

// fakeClock drives the recorder when an archive is written in-process.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// recordArchive writes the clip into the data directory as camera's
// recording from start, as a real-time push beginning then would: the real
// recorder and storage, with a fake clock instead of waiting.
func recordArchive(t *testing.T, dir, camera string, c *bench.Clip, start time.Time) {
	t.Helper()
	st, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &fakeClock{now: start}
	r, err := recorder.New(recorder.Config{Now: clock.Now}, st)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Open(camera, c.Tracks, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Packets {
		clock.set(start.Add(p.At))
		rec.WriteRTP(p.Stream, p.Data)
	}
	rec.Close()
	rec.Wait()
	r.Close()
}

// decodeGray decodes an RTSP (or file) input with ffmpeg and returns the
// luma plane of every frame.
func decodeGray(t *testing.T, timeout time.Duration, args ...string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"-nostdin", "-v", "error"}, args...)
	// passthrough: every decoded frame exactly once (rawvideo would get
	// constant-frame-rate duplication and drops). yuv420p, not gray: the
	// luma plane is then exactly what was encoded (gray rescales the range).
	full = append(full, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	cmd := exec.CommandContext(ctx, "ffmpeg", full...)
	var stderr rtsptest.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, stderr.String())
	}
	if s := stderr.String(); s != "" {
		t.Errorf("ffmpeg %v reported errors:\n%s", args, s)
	}
	size := numberedW * numberedH * 3 / 2
	var frames [][]byte
	for len(out) >= size {
		frames, out = append(frames, out[:numberedW*numberedH]), out[size:] // the Y plane
	}
	return frames
}
