package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	// scrapeTimeout bounds one GET /metrics of the sampler.
	scrapeTimeout = 10 * time.Second
	// drainPoll is the pause between the drain's samples.
	drainPoll = 500 * time.Millisecond
)

// rounds returns the rounds of each count: one untiered; with -tier, one
// without and one with tiering.
func (o *tierOptions) rounds() []bool {
	if o.on {
		return []bool{false, true}
	}
	return []bool{false}
}

// start prepares a round: with -tier, short segments, and in a tiered
// round a weed of its own in dir and the tier section pointing at it. It
// returns the options of the camvault under test and the round's sampler
// of /metrics (idle without -tier), which the caller stops.
func (o *tierOptions) start(ctx context.Context, dir string, so serverOptions, tiered bool) (serverOptions, *tierSampler, error) {
	s := &tierSampler{}
	if !o.on {
		return so, s, nil
	}
	s.every = o.sample
	endpoint := ""
	if tiered {
		w, err := startWeed(ctx, o.weed, dir, o.weedDir)
		if err != nil {
			return so, nil, err
		}
		s.weed, endpoint = w, w.endpoint
	}
	so.extraConf += "\n" + o.conf(endpoint)
	return so, s, nil
}

// tierSampler reads camvault's /metrics during a round of -tier: at a
// steady pace while every publisher streams (in both rounds, so that both
// pay for the scrapes), then, in a tiered round, until the backlog
// drained. It owns the round's weed.
type tierSampler struct {
	srv    *server
	weed   *weedServer // nil in the round without tiering
	every  time.Duration
	client http.Client
	window []tierSample
	// weedCPU and wall are weed's CPU time over the window and the
	// window's span, between its first and last sample.
	weedCPU, wall time.Duration
	err           error // the first failed scrape
}

// run samples every s.every from from until to.
func (s *tierSampler) run(ctx context.Context, from, to time.Time) {
	if s.every == 0 {
		return
	}
	var cpu0 time.Duration
	for at := from; !at.After(to) && ctx.Err() == nil; at = at.Add(s.every) {
		_ = sleepUntil(ctx, at)
		smp, err := s.scrape(ctx)
		if err != nil {
			s.err = firstErr(s.err, err)
			continue
		}
		if s.weed != nil {
			c := s.weed.cpu()
			if len(s.window) == 0 {
				cpu0 = c
			}
			s.weedCPU = c - cpu0
		}
		s.window = append(s.window, smp)
		s.wall = smp.at.Sub(s.window[0].at)
	}
}

// firstErr returns first unless it is nil, else next.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// scrape reads one sample.
func (s *tierSampler) scrape(ctx context.Context) (tierSample, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	var smp tierSample
	err := httpGet(ctx, &s.client, "http://"+s.srv.httpAddr+"/metrics", s.srv.token, func(body io.Reader) error {
		var err error
		smp, err = parseTierSample(body, time.Now())
		return err
	})
	return smp, err
}

// drain samples until the backlog drained or timeout passed since
// streamsEnd, and returns the round's tier result.
func (s *tierSampler) drain(ctx context.Context, streamsEnd time.Time, timeout time.Duration) *tierResult {
	var last tierSample
	for deadline := streamsEnd.Add(timeout); ctx.Err() == nil; {
		smp, err := s.scrape(ctx)
		if err == nil {
			last = smp
		} else {
			s.err = firstErr(s.err, err)
		}
		if last.drained() || time.Now().After(deadline) {
			break
		}
		_ = sleepUntil(ctx, time.Now().Add(drainPoll))
	}
	r := summarizeTier(s.window, last, streamsEnd)
	r.weedCPU, r.wall = s.weedCPU, s.wall
	return &r
}

// stop stops the round's weed, if any.
func (s *tierSampler) stop() {
	if s != nil && s.weed != nil {
		s.weed.stop()
	}
}

// tierCost compares a tiered round with base, the same count without
// tiering: camvault's CPU over it, in total and per camera, and whether
// the tier kept up.
func tierCost(base, tiered *pushResult, n int, o tierOptions) string {
	extra := tiered.cpu - base.cpu
	verdict := "yes"
	if !tiered.tier.keepsUp(o.segment, o.scan) {
		verdict = fmt.Sprintf("NO (a segment waited %.1f s, more than %d segments of %v plus the scan)", tiered.tier.maxOldest, keepUpSegments, o.segment)
		if !tiered.tier.drained {
			verdict = fmt.Sprintf("NO (not drained within %v of the streams' end)", o.drain)
		}
	}
	return fmt.Sprintf("tiering costs camvault %+.1f%% of a core (%+.3f%% per camera) over the round without; keeps up: %s",
		extra*100, extra*100/float64(n), verdict)
}

// loadAverage returns the three load averages of /proc/loadavg, or why
// they could not be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return err.Error()
	}
	l, err := parseLoadavg(b)
	if err != nil {
		return err.Error()
	}
	return l
}

// parseLoadavg returns the first three fields of /proc/loadavg [proc(5)],
// the 1, 5 and 15 minute averages.
func parseLoadavg(b []byte) (string, error) {
	f := strings.Fields(string(bytes.TrimSpace(b)))
	if len(f) < 3 {
		return "", errors.New("parse /proc/loadavg: short line")
	}
	for _, v := range f[:3] {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", fmt.Errorf("parse /proc/loadavg: %q is no average", v)
		}
	}
	return strings.Join(f[:3], " "), nil
}
