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
)

// pushOptions are the flags of `camvault bench push`.
type pushOptions struct {
	counts    []int
	clip      clipOptions
	transport string
	ramp      time.Duration
	tick      time.Duration
	keep      bool
	server    serverOptions // -auth: publishers authenticate with Digest; -tls: they push over RTSPS
	// probeEvery is the pace of the HTTP probe (-http-probe-every); 0
	// without -http-probe.
	probeEvery time.Duration
	tier       tierOptions // -tier: each count without, then with tiering
}

func parsePush(args []string, stderr io.Writer) (*pushOptions, error) {
	fs := flag.NewFlagSet("bench push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &pushOptions{}
	n := fs.String("n", "10", "number of concurrent publishers; a comma-separated list runs one round per value")
	o.clip.register(fs, "length of the pushed clip (each publisher pushes it once, in real time)")
	fs.StringVar(&o.transport, "transport", "tcp", "publisher transport: tcp (interleaved) or udp")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "publishers start spread evenly over this span")
	fs.DurationVar(&o.tick, "tick", defaultTick, "a publisher writes the packets due within each tick at once; 0 writes each access unit when due, as a camera does")
	fs.BoolVar(&o.keep, "keep", false, "keep each round's data directory")
	fs.StringVar(&o.server.extraConf, "server-config", "", "YAML `lines` appended to the camvault config under test, e.g. 'storage: {sync: none}'")
	o.server.register(fs)
	o.tier.register(fs)
	probe := fs.Bool("http-probe", false, "while all publishers stream, ask camvault's GET /api/v1/cameras, GET recordings of the last hour and GET /metrics, one after the other, every -http-probe-every; print each route's latency and fail on any answer but 200")
	fs.DurationVar(&o.probeEvery, "http-probe-every", 250*time.Millisecond, "pace of -http-probe's rounds")
	fs.BoolVar(&o.server.auth, "auth", false, "the camvault under test has a user, and publishers authenticate with Digest")
	fs.BoolVar(&o.server.tls, "tls", false, "publishers push over RTSPS (TCP only) with a self-signed certificate")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	counts, err := parseCounts(*n)
	if err != nil {
		return nil, err
	}
	o.counts = counts
	if !*probe {
		o.probeEvery = 0
	} else if o.probeEvery < minProbeEvery {
		return nil, fmt.Errorf("bench push: -http-probe-every must be at least %v", minProbeEvery)
	}
	if o.transport != "tcp" && o.transport != "udp" {
		return nil, fmt.Errorf("bench push: -transport %q: want tcp or udp", o.transport)
	}
	if o.server.tls && o.transport != "tcp" {
		return nil, errors.New("bench push: -tls needs -transport tcp")
	}
	if o.clip.duration < 3*time.Second || o.clip.duration < o.ramp+2*time.Second {
		return nil, errors.New("bench push: -duration must exceed -ramp by at least 2s")
	}
	return o, o.tier.validate(o.clip.duration)
}

// protoLabel names the transport in the results: tcp, udp or tls, with
// "+auth" when publishers authenticate and "+tier" in a tiered round.
func (o *pushOptions) protoLabel(tiered bool) string {
	l := o.transport
	if o.server.tls {
		l = "tls"
	}
	if o.server.auth {
		l += "+auth"
	}
	if tiered {
		l += "+tier"
	}
	return l
}

// runPush pushes a pre-encoded clip from many publishers into a fresh
// camvault, measures camvault's CPU and memory, and checks that every frame
// was recorded.
func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePush(args, stderr)
	if err != nil {
		return err
	}
	path, sched, err := o.clip.schedule(ctx, o.tick)
	if err != nil {
		return err
	}
	c := sched.clip
	mbps := float64(c.Bytes) * 8 / c.Duration.Seconds() / 1e6
	fmt.Fprintf(stdout, "clip %s: %d video frames, %v, %.2f Mbit/s of RTP per stream\n",
		filepath.Base(path), c.VideoFrames, c.Duration.Round(time.Millisecond), mbps)
	fmt.Fprintf(stdout, "%6s %9s %9s %11s %9s %14s %12s %10s\n",
		"N", "proto", "cpu_core%", "per_stream%", "rss_MiB", "frames", "lost_frames", "bench_cpu%")
	var failed error
	for _, n := range o.counts {
		var base *pushResult
		for _, tiered := range o.tier.rounds() {
			res, err := pushRound(ctx, o, sched, n, tiered)
			if err != nil {
				return err
			}
			printPushRound(stdout, o, n, res, base)
			if len(res.problems) > 0 || res.recorded != res.expected {
				failed = errors.New("bench push: frames were lost or recordings are wrong")
			}
			if res.tier != nil && !res.tier.drained {
				failed = errors.New("bench push: the upload backlog did not drain")
			}
			base = res
		}
	}
	return failed
}

// printPushRound prints a round's row and what follows it: the HTTP
// probe's lines, with -tier the load and CPU time, and for a tiered round
// the tier's line and its cost over base, the round without tiering.
func printPushRound(w io.Writer, o *pushOptions, n int, res, base *pushResult) {
	fmt.Fprintf(w, "%6d %9s %9.1f %11.3f %9.1f %14s %12d %10.1f\n", n, o.protoLabel(res.tier != nil),
		res.cpu*100, res.cpu*100/float64(n), float64(res.rss)/(1<<20),
		fmt.Sprintf("%d/%d", res.recorded, res.expected), res.expected-res.recorded, res.benchCPU*100)
	for _, st := range res.probe {
		fmt.Fprintln(w, " ", st)
	}
	if o.tier.on {
		fmt.Fprintf(w, "  load average %s at the start; camvault %.1f cpu-s in %.1f s\n", res.load, res.cpuTime.Seconds(), res.wall.Seconds())
	}
	if res.tier != nil {
		fmt.Fprintln(w, " ", res.tier)
		if base != nil {
			fmt.Fprintln(w, " ", tierCost(base, res, n, o.tier))
		}
	}
	printProblems(w, res.problems)
}

// pushResult is one round's measurements.
type pushResult struct {
	cpu, benchCPU      float64 // cores used by camvault, by the bench itself
	cpuTime, wall      time.Duration
	rss                int64 // camvault's peak resident set
	expected, recorded int
	probe              []*probeStats // with -http-probe
	load               string        // /proc/loadavg's three averages when the round began
	tier               *tierResult   // in a tiered round
	problems           []string
}

func pushRound(ctx context.Context, o *pushOptions, sched *schedule, n int, tiered bool) (*pushResult, error) {
	dir, err := os.MkdirTemp("", "camvault-bench-")
	if err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	res := &pushResult{expected: n * sched.clip.VideoFrames, load: loadAverage()}
	so, sampler, err := o.tier.start(ctx, dir, o.server, tiered)
	if err != nil {
		return nil, err
	}
	defer sampler.stop()
	srv, err := startServer(ctx, dir, n, so)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	pubs, err := connectPublishers(ctx, srv, o, sched, n)
	if err != nil {
		return nil, fmt.Errorf("connect publishers: %w\n%s", err, srv.logTail())
	}
	t0 := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	errs := streamAll(ctx, &wg, pubs, t0, o.ramp)
	// Measure while every publisher streams: from the end of the ramp plus
	// a second, to a second before the first one finishes.
	from, to := t0.Add(o.ramp+time.Second), t0.Add(sched.clip.Duration-time.Second)
	if o.probeEvery > 0 {
		probe := newHTTPProbe(srv.httpAddr, srv.token, publisherCameras(pubs), o.probeEvery)
		wg.Go(func() { res.probe = probe.run(ctx, from, to) })
	}
	sampler.srv = srv
	wg.Go(func() { sampler.run(ctx, from, to) })
	u := srv.measureUsage(ctx, from, to)
	res.cpu, res.benchCPU, res.rss = cores(u.cpu, u.wall), cores(u.benchCPU, u.wall), u.rss
	res.cpuTime, res.wall = u.cpu, u.wall
	wg.Wait()
	for _, st := range res.probe {
		if p := st.problem(); p != "" {
			res.problems = append(res.problems, p)
		}
	}
	check := recordCheck{frames: sched.clip.VideoFrames, split: o.tier.on}
	if tiered {
		streamsEnd := time.Now()
		check.settle = func() { res.tier = sampler.drain(ctx, streamsEnd, o.tier.drain) }
	}
	res.recorded, res.problems = endPush(srv, dir, pubs, errs, check, res.problems)
	if sampler.err != nil {
		res.problems = append(res.problems, fmt.Sprintf("GET /metrics: %v", sampler.err))
	}
	return res, nil
}

// streamAll starts the publishers' streams in wg, publisher i of n at
// t0+ramp*i/n. Their failures go to the returned channel, which has room
// for all of them.
func streamAll(ctx context.Context, wg *sync.WaitGroup, pubs []*publisher, t0 time.Time, ramp time.Duration) chan error {
	errs := make(chan error, len(pubs))
	for i, p := range pubs {
		start := t0.Add(ramp * time.Duration(i) / time.Duration(len(pubs)))
		wg.Go(func() {
			if err := p.stream(ctx, start); err != nil {
				errs <- fmt.Errorf("%s: %w", p.camera, err)
			}
		})
	}
	return errs
}

// recordCheck is what endPush checks and does.
type recordCheck struct {
	// frames is the video frames each camera must have recorded, split
	// whether they may be in several segments.
	frames int
	split  bool
	// settle, when set, runs once the publishers closed and before
	// camvault stops.
	settle func()
}

// endPush ends a round once the streams of streamAll are over: it closes
// the publishers, settles, stops camvault and checks that each publisher's
// camera was recorded in dir as check says. It returns the frames
// recorded, and problems with the stream failures and what it found
// appended.
func endPush(srv *server, dir string, pubs []*publisher, errs chan error, check recordCheck, problems []string) (int, []string) {
	for _, p := range pubs {
		p.close()
	}
	close(errs)
	for err := range errs {
		problems = append(problems, err.Error())
	}
	if check.settle != nil {
		check.settle()
	}
	if err := srv.stop(); err != nil {
		problems = append(problems, err.Error())
	}
	recorded, problems := countRecorded(filepath.Join(dir, "data"), publisherCameras(pubs), check.frames, check.split, problems)
	if strings.Contains(srv.logTail(), "level=ERROR") {
		problems = append(problems, "camvault logged errors:\n"+srv.logTail())
	}
	return recorded, problems
}

// publisherCameras returns the cameras pubs push.
func publisherCameras(pubs []*publisher) []string {
	cameras := make([]string, len(pubs))
	for i, p := range pubs {
		cameras[i] = p.camera
	}
	return cameras
}

func connectPublishers(ctx context.Context, srv *server, o *pushOptions, sched *schedule, n int) ([]*publisher, error) {
	pubs := make([]*publisher, n)
	for i := range pubs {
		pubs[i] = &publisher{addr: srv.addr, camera: fmt.Sprintf("bench-%04d", i), transport: o.transport, sched: sched}
		if o.server.auth {
			pubs[i].user, pubs[i].password = benchUser, benchPassword
		}
		if o.server.tls {
			pubs[i].addr, pubs[i].tls = srv.tlsAddr, true
		}
		if err := pubs[i].connect(ctx); err != nil {
			for _, p := range pubs[:i+1] {
				p.close()
			}
			return nil, err
		}
	}
	return pubs, nil
}
