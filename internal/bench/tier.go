package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Defaults of push's -tier flags.
const (
	defaultTierSegment = 10 * time.Second
	defaultTierScan    = time.Second
	defaultTierDrain   = 2 * time.Minute
	defaultTierSample  = 2 * time.Second
	// keepUpSegments is how many segment durations the oldest waiting
	// segment may have waited, at most, for the tier to keep up: one to
	// be sealed behind the next, one for the scan and the upload.
	keepUpSegments = 2
)

// tierOptions are push's -tier flags: with on, each count runs two rounds
// with segments of segment: one without tiering, one that tiers to a weed
// it owns.
type tierOptions struct {
	on          bool
	weed        string        // the weed binary; "" is weed.Find's
	weedDir     string        // the parent of each round's weed data; "" is the round's directory
	segment     time.Duration // recorder.segment_duration of both rounds
	scan        time.Duration // tier.scan_interval
	concurrency int           // tier.upload_concurrency; 0 is camvault's default
	drain       time.Duration // the wait for the backlog to drain after the streams
	sample      time.Duration // the pace of the /metrics samples
}

func (o *tierOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.on, "tier", false, "run each count twice with short segments (-tier-segment): without tiering, then tiering to a SeaweedFS weed mini the bench starts and stops; report the upload throughput, the backlog, its drain after the streams, and weed's CPU")
	fs.StringVar(&o.weed, "weed", "", "the weed `binary` of -tier; defaults to $CAMVAULT_WEED, weed on PATH, then where scripts/test.sh builds it")
	fs.StringVar(&o.weedDir, "weed-dir", "", "`directory` under which each tiered round's weed keeps its data (removed after the round); defaults to the round's directory, on the disk camvault records to. A tmpfs such as /dev/shm keeps weed's writes off that disk, as a remote object store would")
	fs.DurationVar(&o.segment, "tier-segment", defaultTierSegment, "recorder segment_duration of -tier's rounds: sealed segments upload while the publishers stream")
	fs.DurationVar(&o.scan, "tier-scan", defaultTierScan, "tier scan_interval of -tier's rounds")
	fs.IntVar(&o.concurrency, "tier-concurrency", 0, "tier upload_concurrency of -tier's rounds; 0 is camvault's default")
	fs.DurationVar(&o.drain, "tier-drain", defaultTierDrain, "how long -tier waits after the streams for every sealed segment to be uploaded")
	fs.DurationVar(&o.sample, "tier-sample-every", defaultTierSample, "pace of -tier's samples of camvault's /metrics (both rounds, for the same cost)")
}

// validate reports -tier flags that cannot give a result for a clip of
// duration: at least two segments must seal while the publishers stream.
func (o *tierOptions) validate(duration time.Duration) error {
	if !o.on {
		return nil
	}
	switch {
	case o.segment < time.Second || 2*o.segment > duration:
		return fmt.Errorf("bench push: -tier-segment %v: want 1s to half of -duration %v", o.segment, duration)
	case o.scan < 10*time.Millisecond:
		return fmt.Errorf("bench push: -tier-scan %v: want at least 10ms", o.scan)
	case o.concurrency < 0 || o.concurrency > 256:
		return fmt.Errorf("bench push: -tier-concurrency %d: want 0..256", o.concurrency)
	case o.drain <= 0 || o.sample <= 0:
		return errors.New("bench push: -tier-drain and -tier-sample-every must be positive")
	}
	return nil
}

// conf returns the config lines of a round: short segments, and with
// endpoint (tiered) a tier section with the weed's bucket and credentials.
func (o *tierOptions) conf(endpoint string) string {
	c := fmt.Sprintf("recorder: {segment_duration: %v}\n", o.segment)
	if endpoint == "" {
		return c
	}
	c += fmt.Sprintf("tier: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q, scan_interval: %v, retry_max: 5s",
		endpoint, weedBucket, weedAccessKey, weedSecretKey, o.scan)
	if o.concurrency > 0 {
		c += fmt.Sprintf(", upload_concurrency: %d", o.concurrency)
	}
	return c + "}\n"
}

// tierSample is what camvault's /metrics says at one instant: the tier's
// series (zero without tiering), and the segments every camera started and
// sealed and the bytes it wrote.
type tierSample struct {
	at                              time.Time
	uploadedBytes, uploadedSegments float64
	failures                        float64
	backlogSegments, backlogBytes   float64
	oldestPending                   float64 // seconds
	startedSegments, sealedSegments float64 // sums over the cameras
	writtenBytes                    float64 // sum over the cameras
}

// parseTierSample reads a /metrics answer in the Prometheus text format.
func parseTierSample(r io.Reader, at time.Time) (tierSample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return tierSample{}, fmt.Errorf("parse /metrics: %w", err)
	}
	sum := func(name string) float64 {
		total := 0.0
		for _, m := range fams[name].GetMetric() {
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			}
		}
		return total
	}
	return tierSample{at: at,
		uploadedBytes: sum("camvault_tier_uploaded_bytes_total"), uploadedSegments: sum("camvault_tier_uploaded_segments_total"),
		failures:        sum("camvault_tier_upload_failures_total"),
		backlogSegments: sum("camvault_tier_backlog_segments"), backlogBytes: sum("camvault_tier_backlog_bytes"),
		oldestPending:   sum("camvault_tier_oldest_pending_seconds"),
		startedSegments: sum("camvault_camera_segments_started_total"), sealedSegments: sum("camvault_camera_segments_sealed_total"),
		writtenBytes: sum("camvault_camera_written_bytes_total"),
	}, nil
}

// drained reports that nothing waits: every segment started was sealed
// (none is open: the streams ended) and uploaded.
func (s *tierSample) drained() bool {
	return s.sealedSegments > 0 && s.sealedSegments == s.startedSegments && s.backlogSegments == 0 &&
		s.uploadedSegments >= s.sealedSegments
}

// tierResult sums up the tier in one round.
type tierResult struct {
	// uploadRate and writeRate are the bytes per second uploaded and
	// written to disk between the first and the last sample of the
	// measured window.
	uploadRate, writeRate float64
	// maxBacklog, maxBacklogBytes and maxOldest are the largest backlog
	// and age of its oldest segment (seconds) the window's samples saw;
	// endBacklog is the backlog at its last sample.
	maxBacklog, maxBacklogBytes, maxOldest, endBacklog float64
	// failures counts the failed attempts of the whole round.
	failures float64
	// drained reports that every sealed segment was uploaded within
	// -tier-drain of the streams' end, after drainTime.
	drained   bool
	drainTime time.Duration
	// uploaded and sealed are the segments of the round's last sample.
	uploaded, sealed float64
	// weedCPU is weed's CPU time over the window, wall the window.
	weedCPU, wall time.Duration
}

// summarizeTier computes a round's result from the samples of its
// measured window, the last sample of its drain and when it was taken.
func summarizeTier(window []tierSample, last tierSample, streamsEnd time.Time) tierResult {
	var r tierResult
	for _, s := range window {
		r.maxBacklog = max(r.maxBacklog, s.backlogSegments)
		r.maxBacklogBytes = max(r.maxBacklogBytes, s.backlogBytes)
		r.maxOldest = max(r.maxOldest, s.oldestPending)
	}
	if n := len(window); n >= 2 {
		first, end := window[0], window[n-1]
		if d := end.at.Sub(first.at).Seconds(); d > 0 {
			r.uploadRate = (end.uploadedBytes - first.uploadedBytes) / d
			r.writeRate = (end.writtenBytes - first.writtenBytes) / d
		}
		r.endBacklog = end.backlogSegments
	}
	r.failures, r.uploaded, r.sealed = last.failures, last.uploadedSegments, last.sealedSegments
	if r.drained = last.drained(); r.drained {
		r.drainTime = max(last.at.Sub(streamsEnd), 0)
	}
	return r
}

// keepsUp reports that uploads kept pace with recording: no segment
// waited longer than keepUpSegments segment durations plus the scan
// interval, and the backlog drained after the streams.
func (r *tierResult) keepsUp(segment, scan time.Duration) bool {
	return r.drained && r.maxOldest <= (keepUpSegments*segment+scan).Seconds()
}

// String is the result's line below the tiered round's row.
func (r *tierResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tier: upload %.1f MB/s (%.1f MB/s written); backlog max %.0f segments / %.1f MB, oldest waited %.1f s, %.0f at the window's end; ",
		r.uploadRate/1e6, r.writeRate/1e6, r.maxBacklog, r.maxBacklogBytes/1e6, r.maxOldest, r.endBacklog)
	if r.drained {
		fmt.Fprintf(&b, "drained %.1f s after the streams", r.drainTime.Seconds())
	} else {
		b.WriteString("NOT drained")
	}
	fmt.Fprintf(&b, " (%.0f/%.0f segments uploaded, %.0f failed attempts); weed %.1f cpu-s = %.1f%% of a core",
		r.uploaded, r.sealed, r.failures, r.weedCPU.Seconds(), cores(r.weedCPU, r.wall)*100)
	return b.String()
}

// cores is cpu time over wall time.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
