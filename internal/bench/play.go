package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp/headers"
	"github.com/camvault/camvault/storage"
)

// playOptions are the flags of `camvault bench play`.
type playOptions struct {
	counts       []int
	clip         clipOptions
	keep         bool
	indexCameras int
	indexDays    int
	seeks        int
	server       serverOptions
}

func parsePlay(args []string, stderr io.Writer) (*playOptions, error) {
	fs := flag.NewFlagSet("bench play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &playOptions{}
	n := fs.String("n", "10", "concurrent playback sessions; a comma-separated list runs one round per value")
	o.clip.register(fs, "length of the recorded clip each session plays")
	fs.DurationVar(&o.clip.gop, "gop", time.Second, "keyframe interval of the clip, a multiple of 40ms")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory")
	fs.IntVar(&o.indexCameras, "index-cameras", 50, "cameras in the synthetic index for the seek latency phase (0 skips it)")
	fs.IntVar(&o.indexDays, "index-days", 30, "days of 1 s fragments per camera in the synthetic index")
	fs.IntVar(&o.seeks, "seeks", 300, "random PLAY seeks timed in the latency phase")
	o.server.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	counts, err := parseCounts(*n)
	o.counts = counts
	return o, err
}

// runPlay measures playback: PLAY-to-first-packet latency on a large
// synthetic index, then CPU per concurrent session of a real recording.
func runPlay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePlay(args, stderr)
	if err != nil {
		return err
	}
	_, c, err := o.clip.load(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "camvault-benchplay-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	if err := prepareArchive(filepath.Join(dir, "data"), c, o, stdout); err != nil {
		return err
	}
	srv, err := startServer(ctx, dir, max(slices.Max(o.counts), 64), o.server)
	if err != nil {
		return err
	}
	defer srv.kill()
	if o.indexCameras > 0 && o.seeks > 0 {
		if err := seekLatency(ctx, srv.addr, o, stdout); err != nil {
			return fmt.Errorf("%w\n%s", err, srv.logTail())
		}
	}
	fmt.Fprintf(stdout, "%6s %9s %11s %9s %14s %10s %10s\n", "N", "cpu_core%", "per_session%", "rss_MiB", "frames", "seq_gaps", "bench_cpu%")
	var failed error
	for _, n := range o.counts {
		res, err := playRound(ctx, srv, c, n)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, srv.logTail())
		}
		fmt.Fprintf(stdout, "%6d %9.1f %11.3f %9.1f %14s %10d %10.1f\n", n, res.cpu*100, res.cpu*100/float64(n),
			float64(res.rss)/(1<<20), fmt.Sprintf("%d/%d", res.frames, n*c.VideoFrames), res.gaps, res.benchCPU*100)
		printProblems(stdout, res.problems)
		if len(res.problems) > 0 {
			failed = errors.New("bench play: sessions lost packets or failed")
		}
	}
	return failed
}

// archiveStart is when the synthetic archive ends and the real clip
// recording starts.
var archiveStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// prepareArchive records the clip as camera "src" in the data directory
// data and, unless -index-cameras is 0, fills the index with the synthetic
// cameras of the seek phase.
func prepareArchive(data string, c *Clip, o *playOptions, stdout io.Writer) error {
	st, err := storage.Open(storage.Config{Dir: data, Sync: storage.SyncNone})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := recordClip(st, "src", c, archiveStart); err != nil {
		return err
	}
	segs, err := st.Segments("src", time.Time{}, time.Time{}, true)
	if err != nil || len(segs) != 1 {
		return fmt.Errorf("bench play: recording the clip gave %d segments (%v)", len(segs), err)
	}
	if o.indexCameras == 0 {
		return nil
	}
	began := time.Now()
	n, err := syntheticIndex(st, segs[0], o.indexCameras, o.indexDays, archiveStart)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "synthetic index: %d cameras x %d days, %d fragments, built in %v\n",
		o.indexCameras, o.indexDays, n, time.Since(began).Round(time.Millisecond))
	return nil
}

// seekLatency times PLAY with a random clock Range to the first RTP packet.
func seekLatency(ctx context.Context, addr string, o *playOptions, stdout io.Writer) error {
	span := time.Duration(o.indexDays) * 24 * time.Hour
	var lat, desc []time.Duration
	for range o.seeks {
		camera := fmt.Sprintf("archive/idx-%03d", rand.IntN(o.indexCameras))
		at := archiveStart.Add(-span + time.Duration(rand.Int64N(int64(span-time.Minute))))
		p := newPlayer(addr, camera)
		d0 := time.Now()
		if err := p.open(ctx, false); err != nil {
			p.close()
			return err
		}
		desc = append(desc, time.Since(d0))
		l, err := p.playUntilFirstPacket(&headers.Range{Unit: headers.RangeClock, Start: &headers.RangePoint{Clock: at.Truncate(time.Millisecond)}})
		p.close()
		if err != nil {
			return err
		}
		lat = append(lat, l)
	}
	fmt.Fprintf(stdout, "seek: PLAY to first packet p50 %v p99 %v max %v; DESCRIBE+SETUP p50 %v p99 %v (%d seeks)\n",
		pct(lat, 50), pct(lat, 99), slices.Max(lat), pct(desc, 50), pct(desc, 99), len(lat))
	return nil
}

// pct returns the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

// playResult is one concurrency round.
type playResult struct {
	cpu, benchCPU float64
	rss           int64
	frames, gaps  int
	problems      []string
}

// playRound plays the recording from n sessions at once and measures
// camvault meanwhile.
func playRound(ctx context.Context, srv *server, c *Clip, n int) (*playResult, error) {
	players := make([]*player, n)
	for i := range players {
		players[i] = newPlayer(srv.addr, "archive/src")
		if err := players[i].open(ctx, true); err != nil {
			for _, p := range players[:i+1] {
				p.close()
			}
			return nil, err
		}
	}
	res := &playResult{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	t0 := time.Now()
	for _, p := range players {
		wg.Go(func() {
			frames, gaps, err := p.playAll(c.Duration + 30*time.Second)
			mu.Lock()
			defer mu.Unlock()
			res.frames += frames
			res.gaps += gaps
			if err != nil {
				res.problems = append(res.problems, err.Error())
			} else if frames != c.VideoFrames {
				res.problems = append(res.problems, fmt.Sprintf("%d of %d video frames", frames, c.VideoFrames))
			}
		})
	}
	res.cpu, res.benchCPU, res.rss = srv.measure(ctx, t0.Add(2*time.Second), t0.Add(c.Duration-time.Second))
	wg.Wait()
	for _, p := range players {
		p.close()
	}
	if res.gaps > 0 {
		res.problems = append(res.problems, fmt.Sprintf("%d sequence gaps", res.gaps))
	}
	return res, nil
}
