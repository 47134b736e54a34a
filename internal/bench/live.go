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
)

const (
	// liveWarmup is how long the cameras push before the baseline is
	// measured.
	liveWarmup = 2 * time.Second
	// liveSettle separates the last viewer's join from the loaded window.
	liveSettle = time.Second
	// liveTail is how long viewers watch after the loaded window.
	liveTail = 500 * time.Millisecond
)

// liveOptions are the flags of `camvault bench live`.
type liveOptions struct {
	counts    []int // viewers of the one camera, a round each; none with -n ""
	cameras   int   // cameras of the multi-camera round; 0 skips it
	perCamera int
	onDemand  int           // cameras of the on-demand phase; 0 skips it
	linger    time.Duration // pull.on_demand_linger of the on-demand phase
	clip      clipOptions
	ramp      time.Duration
	join      time.Duration
	measure   time.Duration
	server    serverOptions
}

func parseLive(args []string, stderr io.Writer) (*liveOptions, error) {
	fs := flag.NewFlagSet("bench live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &liveOptions{}
	n := fs.String("n", "100", "viewers of one pushed camera; a comma-separated list runs one round per value; \"\" runs none")
	fs.IntVar(&o.cameras, "cameras", 0, "cameras pushed at once in a further round, each watched by -viewers-per-camera viewers; 0 skips it")
	fs.IntVar(&o.perCamera, "viewers-per-camera", 2, "viewers of each camera in the -cameras round")
	fs.IntVar(&o.onDemand, "on-demand", 10, "on-demand cameras pulled from the bench, each timed for a first viewer and a second one within the linger; 0 skips it")
	fs.DurationVar(&o.linger, "linger", 10*time.Second, "pull.on_demand_linger of the camvault under test in the on-demand phase")
	o.clip.register(fs, "length of the pushed clip (each camera pushes it once per round, in real time)")
	fs.DurationVar(&o.clip.gop, "gop", 2*time.Second, "keyframe interval of the clip, a multiple of 40ms")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "the cameras of the -cameras round start spread evenly over this span")
	fs.DurationVar(&o.join, "join", 4*time.Second, "viewers join at random times over this span")
	fs.DurationVar(&o.measure, "measure", 15*time.Second, "length of each measured window: the baseline, then the same push with its viewers")
	o.server.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *n != "" {
		counts, err := parseCounts(*n)
		if err != nil {
			return nil, err
		}
		o.counts = counts
	}
	return o, o.validate()
}

func (o *liveOptions) validate() error {
	ramp := time.Duration(0)
	if o.cameras > 0 {
		ramp = o.ramp
	}
	switch {
	case o.cameras < 0 || o.cameras > maxCount || o.perCamera < 1 || o.cameras*o.perCamera > maxCount:
		return fmt.Errorf("bench live: -cameras and -viewers-per-camera: want 0..%d cameras and 1..%d viewers in all", maxCount, maxCount)
	case o.onDemand < 0 || o.onDemand > 1000:
		return errors.New("bench live: -on-demand: want 0..1000 cameras")
	case len(o.counts) == 0 && o.cameras == 0 && o.onDemand == 0:
		return errors.New("bench live: nothing to run: -n, -cameras and -on-demand are all empty")
	case o.clip.gop < 40*time.Millisecond || o.clip.gop%(40*time.Millisecond) != 0:
		return fmt.Errorf("bench live: -gop %v: want a multiple of 40ms (one frame at 25 fps)", o.clip.gop)
	case o.linger < time.Second:
		return errors.New("bench live: -linger must be at least 1s")
	case o.measure < time.Second || o.join < 0 || o.ramp < 0:
		return errors.New("bench live: -measure must be at least 1s, -join and -ramp not negative")
	case o.clip.duration < o.pushSpan(ramp):
		return fmt.Errorf("bench live: -duration must be at least %v: warm-up %v, -ramp, -measure twice, -join and %v",
			o.pushSpan(ramp), liveWarmup, liveSettle+liveTail)
	}
	return nil
}

// pushSpan is how long a round's cameras must push with its cameras
// starting over ramp: the warm-up, the baseline window, the joins, the
// loaded window and the viewers' tail.
func (o *liveOptions) pushSpan(ramp time.Duration) time.Duration {
	return ramp + liveWarmup + 2*o.measure + o.join + liveSettle + liveTail
}

// runLive measures the live relay: the on-demand start of pulled cameras,
// then rounds of pushed cameras first without viewers (the baseline) and
// then with viewers joining at random times; it reports the cost per
// viewer (the difference over the viewers), each viewer's time from PLAY
// to its first keyframe, whether every viewer got every packet from its
// start on, and whether every frame was recorded meanwhile.
func runLive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseLive(args, stderr)
	if err != nil {
		return err
	}
	path, sched, err := o.clip.schedule(ctx, defaultTick)
	if err != nil {
		return err
	}
	c := sched.clip
	fmt.Fprintf(stdout, "clip %s: %d video frames, %v, keyframe every %v, %.2f Mbit/s of RTP per camera\n",
		filepath.Base(path), c.VideoFrames, c.Duration.Round(time.Millisecond), o.clip.gop, float64(c.Bytes)*8/c.Duration.Seconds()/1e6)
	var failed error
	if o.onDemand > 0 {
		res, err := onDemandRound(ctx, o, sched)
		if err != nil {
			return err
		}
		res.print(stdout, o)
		if res.failed() {
			failed = errors.New("bench live: on-demand viewers failed or started wrong")
		}
	}
	rounds := make([][2]int, 0, len(o.counts)+1)
	for _, n := range o.counts {
		rounds = append(rounds, [2]int{1, n})
	}
	if o.cameras > 0 {
		rounds = append(rounds, [2]int{o.cameras, o.perCamera})
	}
	if len(rounds) > 0 {
		fmt.Fprintf(stdout, "%5s %7s %9s %7s %11s %8s %7s %10s %10s %10s %10s %9s %7s %15s %6s %10s\n",
			"cams", "viewers", "base_cpu%", "cpu%", "per_viewer%", "base_MiB", "rss_MiB", "KiB/viewer",
			"start_p50", "start_p99", "start_max", "bad_start", "skipped", "frames", "lost", "bench_cpu%")
	}
	for _, r := range rounds {
		res, err := liveLoadRound(ctx, o, sched, r[0], r[1])
		if err != nil {
			return err
		}
		res.print(stdout)
		if res.failed() {
			failed = errors.New("bench live: viewers lost packets or started wrong, or frames were not recorded")
		}
	}
	return failed
}

// liveResult is one round of pushed cameras and their viewers.
type liveResult struct {
	cameras, viewers   int
	baseCPU, cpu       float64 // camvault's cores without viewers, with them
	benchCPU           float64 // the bench's cores with viewers
	baseRSS, rss       int64   // camvault's peak RSS in each window
	starts             []time.Duration
	badStarts, skipped int // viewers that started wrong, that missed packets
	frames             int // video frames the viewers got
	expected, recorded int
	problems           []string
	tally              tally
}

// failed reports whether a viewer or the recording went wrong.
func (r *liveResult) failed() bool { return len(r.problems) > 0 || len(r.tally.kinds) > 0 }

func (r *liveResult) print(w io.Writer) {
	perViewer := (r.cpu - r.baseCPU) * 100 / float64(r.viewers)
	kib := float64(r.rss-r.baseRSS) / 1024 / float64(r.viewers)
	p50, p99, worst := "-", "-", "-"
	if len(r.starts) > 0 {
		p50, p99, worst = pct(r.starts, 50).String(), pct(r.starts, 99).String(), slices.Max(r.starts).Round(10*time.Microsecond).String()
	}
	fmt.Fprintf(w, "%5d %7d %9.1f %7.1f %11.4f %8.1f %7.1f %10.1f %10s %10s %10s %9d %7d %15d %6d %10.1f\n",
		r.cameras, r.viewers, r.baseCPU*100, r.cpu*100, perViewer, float64(r.baseRSS)/(1<<20), float64(r.rss)/(1<<20), kib,
		p50, p99, worst, r.badStarts, r.skipped, r.frames, r.expected-r.recorded, r.benchCPU*100)
	printProblems(w, append(r.tally.lines(), r.problems...))
}

// liveLoadRound pushes the clip from cams cameras into a fresh camvault,
// measures it without viewers, then with perCamera viewers of each camera
// joined at random times, and checks what the viewers got and what was
// recorded.
func liveLoadRound(ctx context.Context, o *liveOptions, sched *schedule, cams, perCamera int) (*liveResult, error) {
	dir, err := os.MkdirTemp("", "camvault-benchlive-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	viewers := cams * perCamera
	so := o.server
	so.extraConf = fmt.Sprintf("live: {max_viewers: %d}", viewers+16)
	srv, err := startServer(ctx, dir, cams+viewers, so)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	pubs, err := connectPublishers(ctx, srv, &pushOptions{transport: "tcp"}, sched, cams)
	if err != nil {
		return nil, fmt.Errorf("connect publishers: %w\n%s", err, srv.logTail())
	}
	ramp := time.Duration(0)
	if cams > 1 {
		ramp = o.ramp
	}
	res := &liveResult{cameras: cams, viewers: viewers, expected: cams * sched.clip.VideoFrames}
	t0 := time.Now().Add(200 * time.Millisecond)
	var pushing sync.WaitGroup
	errs := streamAll(ctx, &pushing, pubs, t0, ramp)
	baseFrom := t0.Add(ramp + liveWarmup)
	joinFrom := baseFrom.Add(o.measure)
	loadFrom := joinFrom.Add(o.join + liveSettle)
	loadTo := loadFrom.Add(o.measure)
	res.baseCPU, _, res.baseRSS = srv.measure(ctx, baseFrom, joinFrom)
	watching := watchLive(ctx, srv.addr, pubs, perCamera, joinFrom, o.join, loadTo.Add(liveTail), res)
	res.cpu, res.benchCPU, res.rss = srv.measure(ctx, loadFrom, loadTo)
	watching.Wait()
	pushing.Wait()
	res.recorded, res.problems = endPush(srv, dir, pubs, errs, recordCheck{frames: sched.clip.VideoFrames}, res.problems)
	return res, nil
}

// watchLive starts perCamera viewers of every publisher's camera, each
// joining at a random time within join from joinFrom and watching until
// until; their results go into res. The returned group ends when every
// viewer has left.
func watchLive(ctx context.Context, addr string, pubs []*publisher, perCamera int, joinFrom time.Time, join time.Duration,
	until time.Time, res *liveResult) *sync.WaitGroup {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for j := range len(pubs) * perCamera {
		camera := pubs[j%len(pubs)].camera
		at := joinFrom.Add(time.Duration(rand.Int64N(int64(join) + 1)))
		wg.Go(func() {
			v := newLiveViewer(addr, camera)
			err := sleepUntil(ctx, at)
			if err == nil {
				err = v.start(ctx)
			}
			if err == nil {
				err = v.read(until, false)
			}
			v.close()
			mu.Lock()
			defer mu.Unlock()
			res.add(v.stats, err)
		})
	}
	return &wg
}

// add counts one viewer's outcome.
func (r *liveResult) add(st liveStats, err error) {
	r.frames += st.frames
	if st.keyed {
		r.starts = append(r.starts, st.firstKey)
	}
	if st.badStart != "" {
		r.badStarts++
	}
	if st.gaps > 0 {
		r.skipped++
	}
	r.tally.check(st)
	switch {
	case err != nil:
		r.tally.add("failed", err.Error())
	case !st.keyed:
		r.tally.add("got no keyframe", "")
	}
}

// check counts what went wrong with a viewer's stream.
func (t *tally) check(st liveStats) {
	if st.badStart != "" {
		t.add("started wrong", st.badStart)
	}
	if st.gaps > 0 {
		t.add("missed packets", fmt.Sprintf("%d sequence gaps", st.gaps))
	}
}

// tally counts viewer problems by kind, with the first example of each,
// so that hundreds of viewers failing alike make one line.
type tally struct {
	kinds   []string
	count   map[string]int
	example map[string]string
}

func (t *tally) add(kind, example string) {
	if t.count == nil {
		t.count, t.example = map[string]int{}, map[string]string{}
	}
	if t.count[kind] == 0 {
		t.kinds = append(t.kinds, kind)
		t.example[kind] = example
	}
	t.count[kind]++
}

// lines returns one line per kind: how many viewers, and the first example.
func (t *tally) lines() []string {
	var out []string
	for _, k := range t.kinds {
		l := fmt.Sprintf("%s: %d viewers", k, t.count[k])
		if e := t.example[k]; e != "" {
			l += " (first: " + e + ")"
		}
		out = append(out, l)
	}
	return out
}
