package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage"
)

// benchPushOptions are the flags of `camvault bench push`.
type benchPushOptions struct {
	counts    []int
	duration  time.Duration
	transport string
	bitrate   string
	ramp      time.Duration
	tick      time.Duration
	cacheDir  string
	keep      bool
	extraConf string
	pprof     string
	auth      bool // publishers authenticate with Digest
	tls       bool // publishers push over RTSPS
	stderr    io.Writer
}

func parseBenchPush(args []string, stderr io.Writer) (*benchPushOptions, error) {
	fs := flag.NewFlagSet("bench push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &benchPushOptions{stderr: stderr}
	n := fs.String("n", "10", "number of concurrent publishers; a comma-separated list runs one round per value")
	fs.DurationVar(&o.duration, "duration", time.Minute, "length of the pushed clip (each publisher pushes it once, in real time)")
	fs.StringVar(&o.transport, "transport", "tcp", "publisher transport: tcp (interleaved) or udp")
	fs.StringVar(&o.bitrate, "bitrate", "3M", "video bitrate of the generated 720p25 H.264+AAC clip")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "publishers start spread evenly over this span")
	fs.DurationVar(&o.tick, "tick", defaultBenchTick, "a publisher writes the packets due within each tick at once; 0 writes each access unit when due, as a camera does")
	fs.StringVar(&o.cacheDir, "cache", os.TempDir(), "directory where the encoded clip is cached")
	fs.BoolVar(&o.keep, "keep", false, "keep each round's data directory")
	fs.StringVar(&o.extraConf, "server-config", "", "YAML `lines` appended to the camvault config under test, e.g. 'storage: {sync: none}'")
	fs.StringVar(&o.pprof, "pprof", "", "pass -pprof `address` to the camvault under test")
	fs.BoolVar(&o.auth, "auth", false, "the camvault under test has a user, and publishers authenticate with Digest")
	fs.BoolVar(&o.tls, "tls", false, "publishers push over RTSPS (TCP only) with a self-signed certificate")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	counts, err := parseCounts(*n)
	if err != nil {
		return nil, err
	}
	o.counts = counts
	if o.transport != "tcp" && o.transport != "udp" {
		return nil, fmt.Errorf("bench push: -transport %q: want tcp or udp", o.transport)
	}
	if o.tls && o.transport != "tcp" {
		return nil, errors.New("bench push: -tls needs -transport tcp")
	}
	if o.duration < 3*time.Second || o.duration < o.ramp+2*time.Second {
		return nil, fmt.Errorf("bench push: -duration must exceed -ramp by at least 2s")
	}
	return o, nil
}

// protoLabel names the transport in the results: tcp, udp or tls, with
// "+auth" when publishers authenticate.
func (o *benchPushOptions) protoLabel() string {
	l := o.transport
	if o.tls {
		l = "tls"
	}
	if o.auth {
		l += "+auth"
	}
	return l
}

// runBenchPush pushes a pre-encoded clip from many publishers into a fresh
// camvault, measures camvault's CPU and memory, and checks that every frame
// was recorded.
func runBenchPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBenchPush(args, stderr)
	if err != nil {
		return err
	}
	path, err := ensureClip(ctx, o.cacheDir, int(o.duration.Seconds()), o.bitrate)
	if err != nil {
		return err
	}
	clip, err := loadClip(path, o.tick)
	if err != nil {
		return err
	}
	mbps := float64(clip.bytes) * 8 / clip.duration.Seconds() / 1e6
	fmt.Fprintf(stdout, "clip %s: %d video frames, %v, %.2f Mbit/s of RTP per stream\n",
		filepath.Base(path), clip.videoFrames, clip.duration.Round(time.Millisecond), mbps)
	fmt.Fprintf(stdout, "%6s %9s %9s %11s %9s %14s %12s %10s\n",
		"N", "proto", "cpu_core%", "per_stream%", "rss_MiB", "frames", "lost_frames", "bench_cpu%")
	var failed error
	for _, n := range o.counts {
		res, err := benchPushRound(ctx, o, clip, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%6d %9s %9.1f %11.3f %9.1f %14s %12d %10.1f\n", n, o.protoLabel(),
			res.cpu*100, res.cpu*100/float64(n), float64(res.rss)/(1<<20),
			fmt.Sprintf("%d/%d", res.recorded, res.expected), res.expected-res.recorded, res.benchCPU*100)
		for _, p := range res.problems {
			fmt.Fprintln(stdout, "  problem:", p)
		}
		if len(res.problems) > 0 || res.recorded != res.expected {
			failed = errors.New("bench push: frames were lost or recordings are wrong")
		}
	}
	return failed
}

// benchResult is one round's measurements.
type benchResult struct {
	cpu, benchCPU      float64 // cores used by camvault, by the bench itself
	rss                int64   // camvault's peak resident set
	expected, recorded int
	problems           []string
}

func benchPushRound(ctx context.Context, o *benchPushOptions, clip *benchClip, n int) (*benchResult, error) {
	dir, err := os.MkdirTemp("", "camvault-bench-")
	if err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	srv, err := startBenchServer(ctx, dir, n, o)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &benchResult{expected: n * clip.videoFrames}
	pubs, err := connectPublishers(ctx, srv, o, clip, n)
	if err != nil {
		return nil, fmt.Errorf("connect publishers: %w\n%s", err, srv.logTail())
	}
	t0 := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, p := range pubs {
		start := t0.Add(o.ramp * time.Duration(i) / time.Duration(n))
		wg.Go(func() {
			if err := p.stream(ctx, start); err != nil {
				errs <- fmt.Errorf("%s: %w", p.camera, err)
			}
		})
	}
	// Measure while every publisher streams: from the end of the ramp plus
	// a second, to a second before the first one finishes.
	res.cpu, res.benchCPU, res.rss = srv.measure(t0.Add(o.ramp+time.Second), t0.Add(clip.duration-time.Second))
	wg.Wait()
	for _, p := range pubs {
		p.close()
	}
	close(errs)
	for err := range errs {
		res.problems = append(res.problems, err.Error())
	}
	if err := srv.stop(); err != nil {
		res.problems = append(res.problems, err.Error())
	}
	res.recorded, res.problems = countRecorded(dir, pubs, clip, res.problems)
	if strings.Contains(srv.logTail(), "level=ERROR") {
		res.problems = append(res.problems, "camvault logged errors:\n"+srv.logTail())
	}
	return res, nil
}

func connectPublishers(ctx context.Context, srv *benchServer, o *benchPushOptions, clip *benchClip, n int) ([]*benchPublisher, error) {
	pubs := make([]*benchPublisher, n)
	for i := range pubs {
		pubs[i] = &benchPublisher{addr: srv.addr, camera: fmt.Sprintf("bench-%04d", i), transport: o.transport, clip: clip}
		if o.auth {
			pubs[i].user, pubs[i].password = benchUser, benchPassword
		}
		if o.tls {
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

// benchServer is the camvault process under test.
type benchServer struct {
	cmd     *exec.Cmd
	addr    string
	tlsAddr string // RTSPS, with -tls
	logf    *os.File
	exited  chan struct{}
}

func startBenchServer(ctx context.Context, dir string, n int, o *benchPushOptions) (*benchServer, error) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := tcp.Addr().String()
	tcp.Close()
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return nil, err
	}
	udpPort := rtpConn.LocalAddr().(*net.UDPAddr).Port
	rtpConn.Close()
	rtcpConn.Close()
	conf := fmt.Sprintf("data_dir: %s\nlog: {level: warn}\nrtsp:\n  address: %q\n  udp_rtp_address: \"127.0.0.1:%d\"\n"+
		"  udp_rtcp_address: \"127.0.0.1:%d\"\n  max_connections: %d\n  max_connections_per_address: %d\n%s\n", filepath.Join(dir, "data"), addr, udpPort, udpPort+1, n+64, n+64, o.extraConf)
	security, tlsAddr, err := benchSecurityConfig(dir, o)
	if err != nil {
		return nil, err
	}
	conf += security
	cfgPath := filepath.Join(dir, "camvault.yaml")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "camvault.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-config", cfgPath}
	if o.pprof != "" {
		args = append(args, "-pprof", o.pprof)
	}
	s := &benchServer{cmd: exec.Command(exe, args...), addr: addr, tlsAddr: tlsAddr, logf: logf, exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	return s, s.waitReady(ctx)
}

func (s *benchServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p := &benchPublisher{addr: s.addr}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			p.conn = c
			p.r = newReader(c)
			_, err = p.request("OPTIONS", "rtsp://"+s.addr+"/", nil, nil)
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("camvault exited:\n%s", s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("camvault not ready:\n%s", s.logTail())
}

// measure samples CPU use of camvault (and of the bench) between from and
// to, and camvault's peak RSS every half second until to.
func (s *benchServer) measure(from, to time.Time) (cpu, benchCPU float64, rss int64) {
	pid := s.cmd.Process.Pid
	time.Sleep(time.Until(from))
	c0, _ := procCPU(pid)
	b0, w0 := selfCPU(), time.Now()
	for time.Now().Before(to) {
		if r, err := procRSS(pid); err == nil {
			rss = max(rss, r)
		}
		time.Sleep(min(500*time.Millisecond, max(time.Until(to), 0)))
	}
	c1, _ := procCPU(pid)
	b1, wall := selfCPU(), time.Since(w0)
	return (c1 - c0).Seconds() / wall.Seconds(), (b1 - b0).Seconds() / wall.Seconds(), rss
}

func (s *benchServer) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(60 * time.Second):
		s.kill()
		return errors.New("camvault did not stop within 60s")
	}
}

func (s *benchServer) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.logf.Close()
}

func (s *benchServer) logTail() string {
	b, _ := os.ReadFile(s.logf.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// countRecorded counts the video frames recorded per camera and checks that
// each recording starts with a keyframe.
func countRecorded(dir string, pubs []*benchPublisher, clip *benchClip, problems []string) (int, []string) {
	data := filepath.Join(dir, "data")
	st, err := storage.Open(storage.Config{Dir: data})
	if err != nil {
		return 0, append(problems, err.Error())
	}
	defer st.Close()
	total := 0
	for _, p := range pubs {
		segs, err := st.Segments(p.camera, time.Time{}, time.Time{}, false)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		frames := 0
		for i, seg := range segs {
			n, key, err := countVideoSamples(filepath.Join(data, seg.File))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", seg.File, err))
			}
			if i == 0 && !key {
				problems = append(problems, p.camera+": recording does not start with a keyframe")
			}
			frames += n
		}
		if len(segs) != 1 {
			problems = append(problems, fmt.Sprintf("%s: recorded in %d segments, want 1", p.camera, len(segs)))
		}
		if frames != clip.videoFrames {
			problems = append(problems, fmt.Sprintf("%s: %d of %d frames recorded in %d segments", p.camera, frames, clip.videoFrames, len(segs)))
		}
		total += frames
	}
	return total, problems
}

// countVideoSamples counts track 1's samples in a segment file and reports
// whether the first one is a sync sample.
func countVideoSamples(path string) (int, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(f, mp4.WithDecodeMode(mp4.DecModeLazyMdat))
	if err != nil {
		return 0, false, err
	}
	n, firstKey := 0, false
	for _, seg := range mf.Segments {
		for _, frag := range seg.Fragments {
			for _, traf := range frag.Moof.Trafs {
				if traf.Tfhd.TrackID != 1 {
					continue
				}
				for _, s := range traf.Trun.Samples {
					if n == 0 {
						firstKey = !mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync
					}
					n++
				}
			}
		}
	}
	return n, firstKey, nil
}

// parseCounts parses -n: a comma-separated list of session counts.
func parseCounts(list string) ([]int, error) {
	var counts []int
	for _, s := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 || v > 5000 {
			return nil, fmt.Errorf("bench: -n %q: want counts in 1..5000", s)
		}
		counts = append(counts, v)
	}
	return counts, nil
}
