package metrics

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// RTSPStats is what the RTSP side reports at each scrape (cmd fills it from rtsp.Server).
type RTSPStats struct {
	// Connections counts the open connections by kind: "rtsp", "rtsps".
	Connections map[string]int
	// Sessions counts the sessions by kind: "publish", "live", "playback", "pull".
	Sessions map[string]int
	// SlowClients counts the viewers dropped for not keeping up, and UDPDrops the datagrams
	// dropped, since the server started.
	SlowClients, UDPDrops uint64
}

// Sources are what the metrics read at scrape time. Every field may be nil: what it would
// report is then absent.
type Sources struct {
	Store    *storage.Store
	Recorder *recorder.Recorder
	Pull     *ingest.Pull     // nil when no cameras are pulled
	RTSP     func() RTSPStats // nil = none
	// DiskSpace reports the free and total bytes of the data directory's file system
	// (storage's Config.FreeSpace, or Store.DiskSpace).
	DiskSpace func() (free, total int64, err error)
	// IndexSize reports the bytes of the index file (Store.IndexSize).
	IndexSize func() (int64, error)
	// WriteRate reports the bytes/s the store writes now (Store.WriteRate). Without it the
	// rate is the sum of the cameras' recorder bitrates.
	WriteRate func() float64
	// Tier reports the upload of sealed segments to object storage; nil without tiering (no
	// camvault_tier_ series then).
	Tier func() TierStats
	// StorageObserver is the observer given to the Store's Config (NewStorageObserver); nil
	// makes one, which then only sees what is fed to it by hand.
	StorageObserver *StorageObserver
	// Peer reports the failed listings and reads of other nodes' segments (a cluster's
	// peer.Remote); nil: no such series.
	Peer func() (listFailures, readFailures uint64)
}

// Metrics is camvault's Prometheus registry and the hooks that feed it. Its methods may be
// called from any goroutine.
type Metrics struct {
	src Sources
	// reg holds every collector; base all but cameras, whose series the text format writes
	// itself (appendText).
	reg, base    *prometheus.Registry
	cameras      *collector
	proto        http.Handler // reg served as promhttp does, for the formats appendText does not write
	spareMu      sync.Mutex
	spare        *textBuffer // the last scrape's buffer, for the next (not a sync.Pool: scrapes are seconds apart, and the GC would empty it between them)
	storage      *StorageObserver
	playStart    prometheus.Histogram
	authFailures *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	sourceErrors *prometheus.CounterVec
	liveViews    prometheus.Gauge
	liveEnded    *prometheus.CounterVec
}

// LiveEndReasons are the reasons of camvault_http_live_views_ended_total,
// as api reports them (api.LiveEnd*); any other counts as "error".
var LiveEndReasons = []string{"client", "camera", "slow", "shutdown", "error", "moved", "owner"}

// Label values of camvault_auth_failures_total; any other protocol counts as authOther.
const (
	authRTSP  = "rtsp"
	authHTTP  = "http"
	authOther = "other"
)

// Sources of camvault_metrics_source_errors_total.
const (
	sourceDisk  = "disk"
	sourceIndex = "index"
)

// latencyBuckets are the buckets, in seconds, of the latency histograms: 1 ms to 10 s.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns the metrics of src on a registry of their own, with the Go and process
// collectors.
func New(src Sources) (*Metrics, error) {
	m := &Metrics{src: src, reg: prometheus.NewRegistry(), base: prometheus.NewRegistry(), storage: src.StorageObserver}
	if m.storage == nil {
		m.storage = NewStorageObserver()
	}
	m.playStart = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "camvault_playback_play_start_seconds",
		Help:    "Time from a PLAY answered to the first RTP packet sent, in seconds.",
		Buckets: latencyBuckets,
	})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "camvault_auth_failures_total",
		Help: "Authentication failures, by protocol (rtsp, http, other).",
	}, []string{"protocol"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "camvault_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code.",
	}, []string{"route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "camvault_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern, in seconds.",
		Buckets: latencyBuckets,
	}, []string{"route"})
	m.sourceErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "camvault_metrics_source_errors_total",
		Help: "Sources that failed while metrics were gathered (disk, index); their series were left out.",
	}, []string{"source"})
	m.liveViews = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "camvault_http_live_views",
		Help: "Live views of the web page (WebSockets) open now.",
	})
	m.liveEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "camvault_http_live_views_ended_total",
		Help: "Live views of the web page ended, by reason (client, camera, slow, shutdown, error; relayed from another node also moved, owner).",
	}, []string{"reason"})
	for _, p := range []string{authRTSP, authHTTP, authOther} {
		m.authFailures.WithLabelValues(p)
	}
	for _, r := range LiveEndReasons {
		m.liveEnded.WithLabelValues(r)
	}
	for _, s := range []string{sourceDisk, sourceIndex} {
		m.sourceErrors.WithLabelValues(s)
	}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.playStart, m.authFailures, m.httpRequests, m.httpDuration, m.liveViews, m.liveEnded,
		newProcessCollector(m),
	}
	if src.Peer != nil {
		cs = append(cs, peerCounters(src.Peer)...)
	}
	if src.Tier != nil {
		cs = append(cs, newTierCollector(src.Tier))
	}
	m.cameras = newCollector(m)
	for _, c := range cs {
		if err := m.base.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	for _, c := range append(cs, m.cameras) {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	m.proto = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m, nil
}

// peerCounters returns the counters of Sources.Peer.
func peerCounters(peer func() (uint64, uint64)) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "camvault_peer_list_failures_total",
			Help: "Listings of a camera owner's segments not uploaded yet that failed (its part was left out).",
		}, func() float64 { l, _ := peer(); return float64(l) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "camvault_peer_read_failures_total",
			Help: "Reads of another node's segments not uploaded yet that failed (playback skipped what they held).",
		}, func() float64 { _, r := peer(); return float64(r) }),
	}
}

// Gatherer returns every series Handler serves, to gather them directly.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// StorageObserver returns the hook storage calls once per fragment written; it feeds the
// per-camera write and fsync histograms.
func (m *Metrics) StorageObserver() *StorageObserver { return m.storage }

var _ storage.Observer = (*StorageObserver)(nil)

// ObserveHTTP counts one HTTP request answered with code after d. route is the mux pattern
// that matched ("GET /api/v1/cameras/{camera}"), never the raw path, so that the series stay
// bounded.
func (m *Metrics) ObserveHTTP(route string, code int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObservePlayStart records the time from a PLAY answered to its first RTP packet sent.
func (m *Metrics) ObservePlayStart(d time.Duration) { m.playStart.Observe(d.Seconds()) }

// AuthFailure counts a failed authentication over protocol: "rtsp" or "http"; any other
// value counts as "other".
func (m *Metrics) AuthFailure(protocol string) {
	if protocol != authRTSP && protocol != authHTTP {
		protocol = authOther
	}
	m.authFailures.WithLabelValues(protocol).Inc()
}

// LiveStarted counts a live view of the web page that opened.
func (m *Metrics) LiveStarted() { m.liveViews.Inc() }

// LiveEnded counts a live view that ended, by reason (one of
// LiveEndReasons; any other counts as "error").
func (m *Metrics) LiveEnded(reason string) {
	m.liveViews.Dec()
	if !slices.Contains(LiveEndReasons, reason) {
		reason = "error"
	}
	m.liveEnded.WithLabelValues(reason).Inc()
}
