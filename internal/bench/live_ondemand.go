package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"
)

const (
	// onDemandHold is how long an on-demand viewer watches after its
	// first keyframe before it leaves.
	onDemandHold = time.Second
	// onDemandMinRejoin and onDemandMaxRejoin bound the pause between the
	// first viewer's leaving and the second one's DESCRIBE; it is also at
	// most half the linger.
	onDemandMinRejoin = 100 * time.Millisecond
	onDemandMaxRejoin = 2 * time.Second
)

// onDemandResult is the on-demand phase: per camera, the times of its
// first viewer (which starts the pull) and of a second one joining while
// the camera lingers.
type onDemandResult struct {
	cameras int
	// The first viewer's times from sending DESCRIBE: to the camera's
	// accepting camvault's connection, to its getting PLAY, to the first
	// packet that starts a keyframe; and from sending PLAY to that packet.
	connect, cameraPlay, firstKey, firstPlayKey []time.Duration
	// The second viewer's times to its first keyframe packet, from
	// DESCRIBE and from PLAY.
	secondKey, secondPlayKey []time.Duration
	tally                    tally
	problems                 []string
}

// onDemandConf is the config of the on-demand phase: n on-demand cameras
// od-000... pulled from url(k) over TCP, lingering linger.
func onDemandConf(n int, linger time.Duration, url func(k int) string) (string, []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "pull: {on_demand_linger: %s}\ncameras:\n", linger)
	names := make([]string, n)
	for k := range names {
		names[k] = fmt.Sprintf("od-%03d", k)
		fmt.Fprintf(&b, "  %s: {url: %q, on_demand: true}\n", names[k], url(k))
	}
	return b.String(), names
}

// onDemandRound times the on-demand start of o.onDemand cameras that the
// bench serves, one camera at a time so that each start is timed alone.
// Each camera streams the clip from its PLAY, so its first packet starts a
// keyframe, as most cameras do for a new session.
func onDemandRound(ctx context.Context, o *liveOptions, sched *schedule) (*onDemandResult, error) {
	dir, err := os.MkdirTemp("", "camvault-benchlive-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// A start slot long past: every camera streams from its PLAY.
	cam, err := startCamera(ctx, sched, o.onDemand, time.Now().Add(-time.Hour), 0)
	if err != nil {
		return nil, err
	}
	defer cam.close()
	conf, names := onDemandConf(o.onDemand, o.linger, cam.url)
	so := o.server
	so.extraConf = conf
	srv, err := startServer(ctx, dir, 64, so)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &onDemandResult{cameras: o.onDemand}
	rejoin := min(onDemandMaxRejoin, o.linger/2)
	for k, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.camera(ctx, srv.addr, name, cam, k, rejoin)
	}
	if strings.Contains(srv.logTail(), "level=ERROR") {
		res.problems = append(res.problems, "camvault logged errors:\n"+srv.logTail())
	}
	return res, nil
}

// camera times camera k's first viewer, then, after a random pause of
// at most rejoin, its second.
func (r *onDemandResult) camera(ctx context.Context, addr, name string, cam *camera, k int, rejoin time.Duration) {
	first, err := watchOnDemand(ctx, addr, name)
	if err != nil {
		r.tally.add("first viewer failed", err.Error())
		return
	}
	r.tally.check(first.stats)
	if ct, ok := cam.timesOf(cam.url(k)); ok && !ct.play.IsZero() {
		r.connect = append(r.connect, ct.accepted.Sub(first.began))
		r.cameraPlay = append(r.cameraPlay, ct.play.Sub(first.began))
	} else {
		r.tally.add("camera not played", name)
	}
	r.firstKey = append(r.firstKey, first.stats.setup+first.stats.firstKey)
	r.firstPlayKey = append(r.firstPlayKey, first.stats.firstKey)
	pause := onDemandMinRejoin + time.Duration(rand.Int64N(int64(max(rejoin-onDemandMinRejoin, 0))+1))
	if sleepUntil(ctx, time.Now().Add(pause)) != nil {
		return
	}
	second, err := watchOnDemand(ctx, addr, name)
	if err != nil {
		r.tally.add("second viewer failed", err.Error())
		return
	}
	r.tally.check(second.stats)
	r.secondKey = append(r.secondKey, second.stats.setup+second.stats.firstKey)
	r.secondPlayKey = append(r.secondPlayKey, second.stats.firstKey)
}

// watchOnDemand plays camera until its first keyframe and onDemandHold
// after it, and leaves.
func watchOnDemand(ctx context.Context, addr, camera string) (*liveViewer, error) {
	v := newLiveViewer(addr, camera)
	defer v.close()
	if err := v.start(ctx); err != nil {
		return nil, err
	}
	if err := v.read(time.Now().Add(requestTimeout), true); err != nil {
		return nil, err
	}
	if !v.stats.keyed {
		return nil, fmt.Errorf("no keyframe within %v of PLAY", requestTimeout)
	}
	if err := v.read(time.Now().Add(onDemandHold), false); err != nil {
		return nil, err
	}
	return v, nil
}

// failed reports whether a viewer went wrong.
func (r *onDemandResult) failed() bool { return len(r.problems) > 0 || len(r.tally.kinds) > 0 }

func (r *onDemandResult) print(w io.Writer, o *liveOptions) {
	fmt.Fprintf(w, "on-demand: %d cameras (on_demand: true, pull.on_demand_linger %v) served by the bench over TCP, one at a time; "+
		"a second viewer joins %v..%v after the first left\n", r.cameras, o.linger, onDemandMinRejoin, min(onDemandMaxRejoin, o.linger/2))
	fmt.Fprintf(w, "  %-52s %9s %9s %9s %4s\n", "", "p50", "p99", "max", "n")
	for _, row := range []struct {
		name string
		ds   []time.Duration
	}{
		{"first viewer: DESCRIBE to camera connected", r.connect},
		{"first viewer: DESCRIBE to PLAY at the camera", r.cameraPlay},
		{"first viewer: DESCRIBE to first keyframe packet", r.firstKey},
		{"first viewer: PLAY to first keyframe packet", r.firstPlayKey},
		{"second viewer: DESCRIBE to first keyframe packet", r.secondKey},
		{"second viewer: PLAY to first keyframe packet", r.secondPlayKey},
	} {
		if len(row.ds) > 0 {
			fmt.Fprintf(w, "  %-52s %9s %9s %9s %4d\n", row.name, pct(row.ds, 50), pct(row.ds, 99),
				slices.Max(row.ds).Round(10*time.Microsecond), len(row.ds))
		}
	}
	printProblems(w, append(r.tally.lines(), r.problems...))
}
