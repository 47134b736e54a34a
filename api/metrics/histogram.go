package metrics

import (
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// cameraBuckets are the upper bounds, in seconds, of the per-camera latency histograms:
// fewer than latencyBuckets, as every camera has its own series of each.
var cameraBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .5, 2.5}

// latencyHistogram is one camera's histogram of write or fsync times. Storage observes it
// about once per fragment, so a mutex costs nothing there, and a scrape copies it without
// building a dto.Metric (the only way to read a prometheus.Histogram).
type latencyHistogram struct {
	created time.Time // for the protobuf format's created timestamp, as prometheus.Histogram has
	mu      sync.Mutex
	counts  [len(cameraBuckets) + 1]uint64 // per bucket, not cumulative; the last is +Inf
	sum     float64                        // seconds
}

// histogramSnapshot is a latencyHistogram at one instant, its counts cumulative as the
// exposition formats want them.
type histogramSnapshot struct {
	cumulative [len(cameraBuckets)]uint64
	count      uint64
	sum        float64
	created    time.Time
}

func (h *latencyHistogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(cameraBuckets) && s > cameraBuckets[i] {
		i++
	}
	h.mu.Lock()
	h.counts[i]++
	h.sum += s
	h.mu.Unlock()
}

func (h *latencyHistogram) snapshot() histogramSnapshot {
	var s histogramSnapshot
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, n := range h.counts {
		s.count += n
		if i < len(s.cumulative) {
			s.cumulative[i] = s.count
		}
	}
	s.sum, s.created = h.sum, h.created
	return s
}

// metric returns the snapshot as a constant histogram of desc with the label values lvs.
func (s *histogramSnapshot) metric(desc *prometheus.Desc, lvs ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(cameraBuckets))
	for i, b := range cameraBuckets {
		buckets[b] = s.cumulative[i]
	}
	return prometheus.MustNewConstHistogramWithCreatedTimestamp(desc, s.count, s.sum, buckets, s.created, lvs...)
}

// bucketLabels are the values of the le label, formatted as the text format writes them.
var bucketLabels = func() [len(cameraBuckets) + 1]string {
	var out [len(cameraBuckets) + 1]string
	for i, b := range cameraBuckets {
		out[i] = string(appendFloat(nil, b))
	}
	out[len(cameraBuckets)] = string(appendFloat(nil, math.Inf(+1)))
	return out
}()
