package export_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/bench"
	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// t0 is the wall-clock start of the test recordings.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

const (
	fps      = 25
	clipSecs = 60
	width    = 320
	height   = 240
)

// fixture is the recordings every test reads, made once per test binary from
// a real encoded frame-numbered clip through the real recorder:
//
//	cam:    the 60 s clip from t0, in 20 s segments (boundaries at t0+20s, t0+40s)
//	gap:    clip seconds [0, 30) from t0, then [30, 60) from t0+50s: a 20 s gap
//	change: 4 s of the clip from t0, then 4 s of a 160x120 clip from t0+4s
//	bframes: 10 s of a clip with B-frames (two between references) from t0
//
// Every recording has H.264 video (frame N presented at its start + N×40 ms)
// and AAC audio.
type fixture struct {
	dir   string
	store *storage.Store
	err   error
}

var (
	fixOnce sync.Once
	fix     fixture
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fix.store != nil {
		if err := fix.store.Close(); err != nil && code == 0 {
			fmt.Fprintln(os.Stderr, "close store:", err)
			code = 1
		}
	}
	if fix.dir != "" {
		os.RemoveAll(fix.dir)
	}
	os.Exit(code)
}

// needTool skips the test when a tool is missing, or fails it in CI.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return path
}

// recordings returns the shared store of the fixture, building it on first
// use.
func recordings(t testing.TB) *storage.Store {
	t.Helper()
	needTool(t, "ffmpeg")
	needTool(t, "ffprobe")
	fixOnce.Do(func() { fix.err = fix.build() })
	if fix.err != nil {
		t.Fatal(fix.err)
	}
	return fix.store
}

func (f *fixture) build() error {
	dir, err := os.MkdirTemp("", "camvault-export-test")
	if err != nil {
		return err
	}
	f.dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	main, err := encode(ctx, dir, "main.mp4", clipSecs, fmt.Sprintf("%dx%d", width, height))
	if err != nil {
		return err
	}
	small, err := encode(ctx, dir, "small.mp4", 4, "160x120")
	if err != nil {
		return err
	}
	bframes, err := encodeBFrames(ctx, dir, 10)
	if err != nil {
		return err
	}
	f.store, err = storage.Open(storage.Config{Dir: filepath.Join(dir, "data"), Sync: storage.SyncNone})
	if err != nil {
		return err
	}
	segLen := 20 * time.Second
	for _, r := range []struct {
		camera   string
		clip     *bench.Clip
		from, to time.Duration // of the clip
		at       time.Time     // wall-clock time of the clip's instant from
	}{
		{"cam", main, 0, clipSecs * time.Second, t0},
		{"gap", main, 0, 30 * time.Second, t0},
		{"gap", main, 30 * time.Second, clipSecs * time.Second, t0.Add(50 * time.Second)},
		{"change", main, 0, 4 * time.Second, t0},
		{"change", small, 0, 4 * time.Second, t0.Add(4 * time.Second)},
		{"bframes", bframes, 0, 10 * time.Second, t0},
	} {
		if err := record(f.store, r.camera, r.clip, r.from, r.to, r.at, 0, segLen); err != nil {
			return fmt.Errorf("record %s: %w", r.camera, err)
		}
	}
	return nil
}

// encode encodes a numbered clip with audio into dir and loads it.
func encode(ctx context.Context, dir, name string, seconds int, size string) (*bench.Clip, error) {
	spec := clip.Numbered(seconds, fps, size)
	spec.Audio = true
	path := filepath.Join(dir, name)
	if err := bench.EncodeClip(ctx, path, spec); err != nil {
		return nil, err
	}
	return bench.LoadClip(path)
}

// encodeBFrames encodes a numbered clip without audio whose H.264 has two
// B-frames between references (bench.EncodeClip's has none), and loads it.
func encodeBFrames(ctx context.Context, dir string, seconds int) (*bench.Clip, error) {
	spec := clip.Numbered(seconds, fps, fmt.Sprintf("%dx%d", width, height))
	path := filepath.Join(dir, "bframes.mp4")
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", spec.Video,
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", fmt.Sprint(fps),
		"-sc_threshold", "0", "-qp", "12", "-pix_fmt", "yuv420p",
		"-movflags", "frag_keyframe+empty_moov+default_base_moof", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("encode B-frame clip: %w\n%s", err, out)
	}
	return bench.LoadClip(path)
}

// record writes the packets of c in [from, to) as camera's recording
// through the real recorder, the clip's instant from at wall-clock time at,
// with a clock that follows the clip. loops > 0 repeats them that many times
// with RTP timestamps that go on (for long recordings).
func record(st *storage.Store, camera string, c *bench.Clip, from, to time.Duration, at time.Time, loops int, segLen time.Duration) error {
	now := at
	r, err := recorder.New(recorder.Config{Now: func() time.Time { return now }, SegmentDuration: segLen}, st)
	if err != nil {
		return err
	}
	rec, err := r.Open(camera, c.Tracks, recorder.OpenOptions{Backpressure: true})
	if err != nil {
		return err
	}
	span := to - from
	buf := make([]byte, 0, 2048)
	for loop := range max(loops, 1) {
		for _, p := range c.Packets {
			if p.At < from || p.At >= to {
				continue
			}
			now = at.Add(p.At - from + time.Duration(loop)*span)
			buf = append(buf[:0], p.Data...)
			clock := int64(c.Tracks[p.Stream].ClockRate)
			ts := binary.BigEndian.Uint32(buf[4:]) + uint32(int64(loop)*int64(span)*clock/int64(time.Second))
			binary.BigEndian.PutUint32(buf[4:], ts)
			rec.WriteRTP(p.Stream, buf)
		}
	}
	rec.Close()
	rec.Wait()
	return r.Close()
}
