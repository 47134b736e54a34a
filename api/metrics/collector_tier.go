package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TierStats is what the upload of sealed segments to object storage reports at each scrape
// (cmd fills it from tier.Tier.Stats). Counters only grow.
type TierStats struct {
	// UploadedSegments and UploadedBytes count the segment objects published.
	UploadedSegments, UploadedBytes uint64
	// Failures counts failed upload attempts, each retry included; Refused the segments
	// refused for good (their fencing revision lost the camera).
	Failures, Refused uint64
	// DeletedObjects counts the objects object retention removed.
	DeletedObjects uint64
	// BacklogSegments and BacklogBytes are the sealed segments, and their bytes, waiting for
	// upload at the last scan of the index (those in flight included).
	BacklogSegments int
	BacklogBytes    int64
	// OldestPending is how long ago the oldest waiting segment ended; 0 when none waits.
	OldestPending time.Duration
	// Unreachable reports that the last request to the object store failed.
	Unreachable bool
}

// tierCollector sends the series of Sources.Tier.
type tierCollector struct {
	stats                                               func() TierStats
	uploaded, uploadedBytes, failures, refused, deleted *prometheus.Desc
	backlog, backlogBytes, oldest, unreachable          *prometheus.Desc
}

func newTierCollector(stats func() TierStats) *tierCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &tierCollector{
		stats:         stats,
		uploaded:      d("camvault_tier_uploaded_segments_total", "Segments uploaded to the object store."),
		uploadedBytes: d("camvault_tier_uploaded_bytes_total", "Bytes of the segments uploaded to the object store."),
		failures:      d("camvault_tier_upload_failures_total", "Failed upload attempts to the object store, each retry counted."),
		refused: d("camvault_tier_refused_segments_total",
			"Segments never to be uploaded: their fencing revision no longer owned the camera; they stay local."),
		deleted: d("camvault_tier_deleted_objects_total", "Segment objects deleted by object retention."),
		backlog: d("camvault_tier_backlog_segments",
			"Sealed segments waiting for upload (in flight included), at the last scan of the index."),
		backlogBytes: d("camvault_tier_backlog_bytes", "Bytes of the sealed segments waiting for upload, at the last scan of the index."),
		oldest: d("camvault_tier_oldest_pending_seconds",
			"Seconds since the oldest segment waiting for upload ended; 0 when none waits."),
		unreachable: d("camvault_tier_store_unreachable", "1 when the last request to the object store failed, else 0."),
	}
}

// Describe sends every descriptor the collector uses.
func (c *tierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.uploaded, c.uploadedBytes, c.failures, c.refused, c.deleted,
		c.backlog, c.backlogBytes, c.oldest, c.unreachable} {
		ch <- d
	}
}

// Collect sends the tier's series, read once.
func (c *tierCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter(c.uploaded, st.UploadedSegments)
	counter(c.uploadedBytes, st.UploadedBytes)
	counter(c.failures, st.Failures)
	counter(c.refused, st.Refused)
	counter(c.deleted, st.DeletedObjects)
	gauge(c.backlog, float64(st.BacklogSegments))
	gauge(c.backlogBytes, float64(st.BacklogBytes))
	gauge(c.oldest, st.OldestPending.Seconds())
	unreachable := 0.0
	if st.Unreachable {
		unreachable = 1
	}
	gauge(c.unreachable, unreachable)
}
