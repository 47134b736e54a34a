package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/storage"
)

// pullOptions are the flags of `camvault bench pull`.
type pullOptions struct {
	counts    []int
	clip      clipOptions
	source    string // clip | archive
	transport string // tcp | udp
	ramp      time.Duration
	tick      time.Duration
	server    serverOptions
}

func parsePull(args []string, stderr io.Writer) (*pullOptions, error) {
	fs := flag.NewFlagSet("bench pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &pullOptions{}
	n := fs.String("n", "50", "pulled cameras; a comma-separated list runs one round per value")
	o.clip.register(fs, "length of the clip each camera serves")
	fs.StringVar(&o.source, "source", "clip", "what the cameras are: clip (the bench serves the clip with bench push's "+
		"traffic pattern) or archive (a second camvault plays its recording of the clip)")
	fs.StringVar(&o.transport, "transport", "tcp", "pull transport: tcp (interleaved) or udp; -source clip only")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "cameras start streaming spread evenly over this span; -source clip only")
	fs.DurationVar(&o.tick, "tick", defaultTick, "a camera writes the packets due within each tick at once, as bench push does; "+
		"0 writes each access unit when due; -source clip only")
	o.server.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	counts, err := parseCounts(*n)
	if err != nil {
		return nil, err
	}
	o.counts = counts
	switch {
	case o.source != "clip" && o.source != "archive":
		return nil, fmt.Errorf("bench pull: -source %q: want clip or archive", o.source)
	case o.transport != "tcp" && o.transport != "udp":
		return nil, fmt.Errorf("bench pull: -transport %q: want tcp or udp", o.transport)
	case o.source == "archive" && o.transport != "tcp":
		return nil, errors.New("bench pull: -source archive pulls over tcp only")
	case o.clip.duration < o.ramp+5*time.Second:
		return nil, errors.New("bench pull: -duration must exceed -ramp by at least 5s")
	}
	return o, nil
}

// runPull measures pulled cameras: N cameras (always scheduled) that
// the camvault under test pulls from the bench itself (-source clip) or
// from a second camvault's archive playback (-source archive). CPU and RSS
// are the puller's; source_cpu% is what the source process used meanwhile;
// late counts the cameras (-source clip) that the puller played after their
// start slot, which a slow machine causes: they then stream from PLAY on,
// so late is reported and only lost frames fail the run.
func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePull(args, stderr)
	if err != nil {
		return err
	}
	_, sched, err := o.clip.schedule(ctx, o.tick)
	if err != nil {
		return err
	}
	c := sched.clip
	fmt.Fprintf(stdout, "%6s %7s %5s %9s %11s %9s %14s %11s %5s\n",
		"N", "source", "proto", "cpu_core%", "per_camera%", "rss_MiB", "frames", "source_cpu%", "late")
	var failed error
	for _, n := range o.counts {
		var res *pullResult
		if o.source == "clip" {
			res, err = pullClipRound(ctx, o, sched, n)
		} else {
			res, err = pullArchiveRound(ctx, o, c, n)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%6d %7s %5s %9.1f %11.3f %9.1f %14s %11.1f %5d\n", n, o.source, o.transport,
			res.cpu*100, res.cpu*100/float64(n), float64(res.rss)/(1<<20),
			fmt.Sprintf("%d/%d", res.frames, n*c.VideoFrames), res.sourceCPU*100, res.late)
		printProblems(stdout, res.problems)
		if len(res.problems) > 0 {
			failed = errors.New("bench pull: frames were lost or cameras failed")
		}
	}
	return failed
}

type pullResult struct {
	cpu, sourceCPU float64
	rss            int64
	frames         int
	late           int // cameras played after their start slot (-source clip)
	problems       []string
}

// pullCamerasConf is the cameras: section pulling url(k) as pull-000...
func pullCamerasConf(n int, transport string, url func(k int) string) (string, []string) {
	var cams strings.Builder
	cams.WriteString("cameras:\n")
	names := make([]string, n)
	for k := range names {
		names[k] = fmt.Sprintf("pull-%03d", k)
		fmt.Fprintf(&cams, "  %s: {url: %q, transport: %s}\n", names[k], url(k), transport)
	}
	return cams.String(), names
}

// pullClipRound pulls n cameras served by the bench with bench push's
// traffic; the window measured is bench push's: from the end of the ramp
// plus a second to a second before the first camera's clip ends.
func pullClipRound(ctx context.Context, o *pullOptions, sched *schedule, n int) (*pullResult, error) {
	dir, err := os.MkdirTemp("", "camvault-benchpull-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now().Add(3 * time.Second) // the puller starts and connects meanwhile
	cam, err := startCamera(ctx, sched, n, t0, o.ramp)
	if err != nil {
		return nil, err
	}
	defer cam.close()
	conf, names := pullCamerasConf(n, o.transport, cam.url)
	so := o.server
	so.extraConf = conf
	puller, err := startServer(ctx, dir, 64, so)
	if err != nil {
		return nil, err
	}
	defer puller.kill()
	res := &pullResult{}
	res.cpu, res.sourceCPU, res.rss = puller.measure(ctx, t0.Add(o.ramp+time.Second), t0.Add(sched.clip.Duration-time.Second))
	_ = sleepUntil(ctx, t0.Add(o.ramp+sched.clip.Duration+2*time.Second))
	_ = sleepUntil(ctx, cam.streamsEnd().Add(2*time.Second)) // cameras played late end late
	if err := puller.stop(); err != nil {
		res.problems = append(res.problems, err.Error())
	}
	late, problems := cam.close()
	res.late = late
	res.frames, res.problems = firstSegmentFrames(filepath.Join(dir, "data"), names, sched.clip.VideoFrames, append(res.problems, problems...))
	return res, nil
}

// pullArchiveRound pulls n cameras from a second camvault's archive
// playback of the clip.
func pullArchiveRound(ctx context.Context, o *pullOptions, c *Clip, n int) (*pullResult, error) {
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
	err = recordClip(st, "src", c, archiveStart)
	st.Close()
	if err != nil {
		return nil, err
	}
	src, err := startServer(ctx, srcDir, n+8, serverOptions{exe: o.server.exe})
	if err != nil {
		return nil, err
	}
	defer src.kill()
	conf, names := pullCamerasConf(n, "tcp", func(int) string { return "rtsp://" + src.addr + "/archive/src" })
	if err := os.MkdirAll(pullDir, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	so := o.server
	so.extraConf = conf
	puller, err := startServer(ctx, pullDir, 64, so)
	if err != nil {
		return nil, err
	}
	defer puller.kill()
	res := &pullResult{}
	from, to := t0.Add(5*time.Second), t0.Add(c.Duration-2*time.Second)
	var wg sync.WaitGroup
	wg.Go(func() { res.sourceCPU, _, _ = src.measure(ctx, from, to) })
	res.cpu, _, res.rss = puller.measure(ctx, from, to)
	wg.Wait()
	_ = sleepUntil(ctx, t0.Add(c.Duration+3*time.Second))
	if err := puller.stop(); err != nil {
		res.problems = append(res.problems, err.Error())
	}
	res.frames, res.problems = firstSegmentFrames(filepath.Join(pullDir, "data"), names, c.VideoFrames, res.problems)
	return res, nil
}
