package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/storage"
)

// runBenchPull measures pulled cameras: a source camvault serves a recorded
// clip over archive playback, and the camvault under test pulls it as N
// cameras (always scheduled, TCP). CPU and RSS are the puller's.
func runBenchPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.String("n", "50", "pulled cameras; a comma-separated list runs one round per value")
	duration := fs.Duration("duration", time.Minute, "length of the clip each camera serves")
	bitrate := fs.String("bitrate", "3M", "video bitrate of the 720p25 H.264+AAC clip")
	cache := fs.String("cache", os.TempDir(), "directory where the encoded clip is cached")
	if err := fs.Parse(args); err != nil {
		return err
	}
	counts, err := parseCounts(*n)
	if err != nil {
		return err
	}
	path, err := ensureClip(ctx, *cache, int(duration.Seconds()), *bitrate)
	if err != nil {
		return err
	}
	c, err := clip.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%6s %9s %11s %9s %14s\n", "N", "cpu_core%", "per_camera%", "rss_MiB", "frames")
	var failed error
	for _, n := range counts {
		res, err := pullRound(ctx, c, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%6d %9.1f %11.3f %9.1f %14s\n", n, res.cpu*100, res.cpu*100/float64(n),
			float64(res.rss)/(1<<20), fmt.Sprintf("%d/%d", res.frames, n*c.VideoFrames))
		for _, p := range res.problems {
			fmt.Fprintln(stdout, "  problem:", p)
		}
		if len(res.problems) > 0 {
			failed = errors.New("bench pull: frames were lost")
		}
	}
	return failed
}

type pullResult struct {
	cpu      float64
	rss      int64
	frames   int
	problems []string
}

func pullRound(ctx context.Context, c *clip.Clip, n int) (*pullResult, error) {
	dir, err := os.MkdirTemp("", "camvault-benchpull-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srcDir, pullDir := filepath.Join(dir, "source"), filepath.Join(dir, "puller")
	st, err := storage.Open(storage.Config{Dir: filepath.Join(srcDir, "data"), Sync: storage.SyncNone})
	if err != nil {
		return nil, err
	}
	err = recordClip(st, "src", c, benchArchiveStart)
	st.Close()
	if err != nil {
		return nil, err
	}
	src, err := startBenchServer(ctx, srcDir, n+8, &benchPushOptions{})
	if err != nil {
		return nil, err
	}
	defer src.kill()
	var cams strings.Builder
	cams.WriteString("cameras:\n")
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pull-%03d", i)
		fmt.Fprintf(&cams, "  %s: {url: \"rtsp://%s/archive/src\"}\n", names[i], src.addr)
	}
	if err := os.MkdirAll(pullDir, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	puller, err := startBenchServer(ctx, pullDir, 64, &benchPushOptions{extraConf: cams.String()})
	if err != nil {
		return nil, err
	}
	defer puller.kill()
	res := &pullResult{}
	res.cpu, _, res.rss = puller.measure(t0.Add(5*time.Second), t0.Add(c.Duration-2*time.Second))
	time.Sleep(time.Until(t0.Add(c.Duration + 3*time.Second)))
	if err := puller.stop(); err != nil {
		res.problems = append(res.problems, err.Error())
	}
	res.frames, res.problems = firstSegmentFrames(filepath.Join(pullDir, "data"), names, c.VideoFrames, res.problems)
	return res, nil
}

// firstSegmentFrames counts the video frames of each camera's first
// segment (a pull replays the archive again after its end).
func firstSegmentFrames(data string, names []string, want int, problems []string) (int, []string) {
	st, err := storage.Open(storage.Config{Dir: data})
	if err != nil {
		return 0, append(problems, err.Error())
	}
	defer st.Close()
	total := 0
	for _, name := range names {
		segs, err := st.Segments(name, time.Time{}, time.Time{}, false)
		if err != nil || len(segs) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no recording (%v)", name, err))
			continue
		}
		frames, key, err := countVideoSamples(filepath.Join(data, segs[0].File))
		if err != nil || !key || frames < want {
			problems = append(problems, fmt.Sprintf("%s: %d of %d frames (keyframe first: %v, %v)", name, frames, want, key, err))
		}
		total += min(frames, want)
	}
	return total, problems
}
