package metrics

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// collector turns the sources' snapshots into the per-camera series at each scrape: as
// prometheus.Metrics for the registry (Collect), or straight into the text format (appendText),
// which is what a 200-camera /metrics costs most. Between scrapes it keeps only the cameras'
// label pairs.
type collector struct {
	m       *Metrics
	camera  []cameraSeries
	deleted struct{ segments, bytes family }
	lastEnd family
	// write and sync are the storage latency histograms.
	write, sync family

	// mu guards labels: each camera's label pairs, built once and kept while some source
	// knows the camera (dropped with it at the next scrape).
	mu     sync.Mutex
	labels map[string]*cameraLabels
}

// family is one metric family: its descriptor for the registry, and its name and comment
// lines for the text format.
type family struct {
	desc   *prometheus.Desc
	name   string
	header string // "# HELP name help\n# TYPE name type\n"
}

// cameraLabels are a camera's label pairs: the camera alone, and the camera with each
// deletion reason (index 0 unused), as sorted dto pairs and as text (camera="cam1"). They are
// shared by every scrape and never modified.
type cameraLabels struct {
	camera       []*dto.LabelPair
	byReason     [storage.NumDeleteReasons][]*dto.LabelPair
	text         string
	textByReason [storage.NumDeleteReasons]string
}

// cameraRow is what the sources say about one camera; a source that does not know the
// camera leaves its part zero (pull, write and sync nil).
type cameraRow struct {
	name string
	rec  recorder.CameraStats
	st   storage.CameraCounters
	pull *ingest.CameraState
	// hasRec says the recorder knows the camera.
	hasRec bool
	// labels are the camera's label pairs, and write and sync its storage latency
	// histograms (nil before storage reported a fragment); set by scrape.
	labels      *cameraLabels
	write, sync *histogramSnapshot
}

// cameraSeries is one per-camera counter or gauge with the label camera only.
type cameraSeries struct {
	family
	typ   prometheus.ValueType
	value func(r *cameraRow) float64
}

func newCollector(m *Metrics) *collector {
	c := &collector{m: m, labels: make(map[string]*cameraLabels)}
	counter := func(name, help string, value func(r *cameraRow) uint64) {
		c.camera = append(c.camera, cameraSeries{
			family: newFamily(name, help, prometheus.CounterValue, "camera"), typ: prometheus.CounterValue,
			value: func(r *cameraRow) float64 { return float64(value(r)) },
		})
	}
	gauge := func(name, help string, value func(r *cameraRow) float64) {
		c.camera = append(c.camera, cameraSeries{
			family: newFamily(name, help, prometheus.GaugeValue, "camera"), typ: prometheus.GaugeValue, value: value,
		})
	}
	counter("camvault_camera_received_packets_total", "RTP packets received from the camera (all tracks).",
		func(r *cameraRow) uint64 { return r.rec.Packets })
	counter("camvault_camera_received_bytes_total", "Payload bytes of the RTP packets received from the camera.",
		func(r *cameraRow) uint64 { return r.rec.Bytes })
	counter("camvault_camera_lost_packets_total", "RTP sequence numbers of the camera never received.",
		func(r *cameraRow) uint64 { return r.rec.Lost })
	counter("camvault_camera_late_packets_total", "RTP packets dropped as late, duplicate or far out of sequence.",
		func(r *cameraRow) uint64 { return r.rec.Late })
	counter("camvault_camera_dropped_packets_total", "Other RTP packets dropped: malformed, wrong payload type, foreign SSRC.",
		func(r *cameraRow) uint64 { return r.rec.Dropped })
	counter("camvault_camera_recorded_frames_total", "Video frames (audio units for audio-only cameras) handed to storage.",
		func(r *cameraRow) uint64 { return r.rec.Frames })
	counter("camvault_camera_fragments_written_total", "Fragments storage wrote.",
		func(r *cameraRow) uint64 { return r.st.FragmentsWritten })
	counter("camvault_camera_fragments_dropped_total", "Fragments lost: write queue full, memory budget exhausted or storage failed.",
		func(r *cameraRow) uint64 { return r.rec.FragmentsDropped })
	counter("camvault_camera_segments_started_total", "Segments the recorder started.",
		func(r *cameraRow) uint64 { return r.rec.Segments })
	counter("camvault_camera_segments_sealed_total", "Segments storage sealed with at least one fragment.",
		func(r *cameraRow) uint64 { return r.st.SegmentsSealed })
	counter("camvault_camera_written_bytes_total", "Segment bytes storage wrote and kept.",
		func(r *cameraRow) uint64 { return r.st.BytesWritten })
	counter("camvault_camera_write_errors_total", "Failed file operations of the storage writers (create, write, fsync).",
		func(r *cameraRow) uint64 { return r.st.WriteErrors })
	counter("camvault_camera_crash_lost_fragments_total", "Torn fragments cut off by start-up crash repair.",
		func(r *cameraRow) uint64 { return r.st.FragmentsLostToCrash })
	c.camera = append(c.camera, cameraSeries{
		family: newFamily("camvault_camera_crash_lost_seconds_total",
			"Estimated recording time lost to start-up crash repair: from the last whole fragment's end to the file's modification time.",
			prometheus.CounterValue, "camera"),
		typ: prometheus.CounterValue, value: func(r *cameraRow) float64 { return r.st.LostToCrash.Seconds() },
	})
	gauge("camvault_camera_write_queue_bytes", "Media the recording holds in memory: its open fragment and fragments queued to storage.",
		func(r *cameraRow) float64 { return float64(r.rec.Buffered) })
	gauge("camvault_camera_write_queue_depth", "The camera's operations waiting in the storage write queue now.",
		func(r *cameraRow) float64 { return float64(r.st.Queued) })
	gauge("camvault_camera_recording", "1 while a recording of the camera is open, else 0.",
		func(r *cameraRow) float64 { return boolValue(r.rec.Active) })
	gauge("camvault_camera_state",
		"What the camera is doing: 0 idle, 1 connecting, 2 backing_off, 3 recording, 4 storage_error (the API's camera state).",
		func(r *cameraRow) float64 { return float64(r.state()) })
	c.deleted.segments = newFamily("camvault_camera_segments_deleted_total",
		"Segments retention deleted, by reason.", prometheus.CounterValue, "camera", "reason")
	c.deleted.bytes = newFamily("camvault_camera_deleted_bytes_total",
		"Bytes of the segments retention deleted, by reason.", prometheus.CounterValue, "camera", "reason")
	c.lastEnd = newFamily("camvault_camera_last_fragment_timestamp_seconds",
		"Wall-clock end of the last fragment handed to storage, in Unix seconds.", prometheus.GaugeValue, "camera")
	c.write = newFamily("camvault_camera_write_duration_seconds",
		"Time storage took to write one fragment of the camera, in seconds.", histogramValue, "camera")
	c.sync = newFamily("camvault_camera_fsync_duration_seconds",
		"Time storage took to fsync one fragment of the camera, in seconds (only when it syncs per fragment).",
		histogramValue, "camera")
	return c
}

// histogramValue stands for a histogram family in newFamily (prometheus.ValueType has no
// histogram).
const histogramValue prometheus.ValueType = -1

// newFamily returns the family name of typ with the given help and variable labels.
func newFamily(name, help string, typ prometheus.ValueType, labels ...string) family {
	kind := map[prometheus.ValueType]string{prometheus.CounterValue: "counter", prometheus.GaugeValue: "gauge",
		histogramValue: "histogram"}[typ]
	return family{
		desc:   prometheus.NewDesc(name, help, labels, nil),
		name:   name,
		header: "# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + kind + "\n",
	}
}

// Describe sends every descriptor the collector uses.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.camera {
		ch <- s.desc
	}
	for _, f := range []*family{&c.deleted.segments, &c.deleted.bytes, &c.lastEnd, &c.write, &c.sync} {
		ch <- f.desc
	}
}

// Collect reads every source once and sends the per-camera series.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.scrape() {
		c.collectCamera(ch, r)
	}
}

// scrape reads every source once and returns the cameras any of them knows, sorted by name,
// with their labels and latency histograms. It forgets what it kept of the other cameras.
func (c *collector) scrape() []*cameraRow {
	rows := c.m.rows()
	obs := c.m.storage
	obs.prune(rows)
	c.pruneLabels(rows)
	out := make([]*cameraRow, 0, len(rows))
	for name, r := range rows {
		r.labels = c.labelsOf(name)
		if l := obs.latency(name); l != nil {
			w, s := l.write.snapshot(), l.sync.snapshot()
			r.write, r.sync = &w, &s
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *cameraRow) int { return strings.Compare(a.name, b.name) })
	return out
}

// rows returns every camera the recorder, storage or the pulls know, by name.
func (m *Metrics) rows() map[string]*cameraRow {
	src := &m.src
	var recs []recorder.CameraStats
	if src.Recorder != nil {
		recs = src.Recorder.CameraStats()
	}
	var counters map[string]storage.CameraCounters
	if src.Store != nil {
		counters = src.Store.AllCounters()
	}
	var pulls []ingest.CameraState
	if src.Pull != nil {
		pulls = src.Pull.States()
	}
	rows := make(map[string]*cameraRow, max(len(recs), len(counters)))
	row := func(name string) *cameraRow {
		r := rows[name]
		if r == nil {
			r = &cameraRow{name: name}
			rows[name] = r
		}
		return r
	}
	for i := range recs {
		r := row(recs[i].Camera)
		r.rec, r.hasRec = recs[i], true
	}
	for name, cc := range counters {
		row(name).st = cc
	}
	for i := range pulls {
		row(pulls[i].Name).pull = &pulls[i]
	}
	return rows
}

func (c *collector) collectCamera(ch chan<- prometheus.Metric, r *cameraRow) {
	const reasons = storage.NumDeleteReasons - 1 // reason 0 is unused
	samples := make([]sample, 0, len(c.camera)+2*reasons+1)
	add := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels []*dto.LabelPair) {
		samples = append(samples, sample{desc: desc, typ: typ, value: v, labels: labels})
	}
	for _, s := range c.camera {
		add(s.desc, s.typ, s.value(r), r.labels.camera)
	}
	for reason := storage.DeleteReason(1); int(reason) < storage.NumDeleteReasons; reason++ {
		d := r.st.Deleted[reason]
		add(c.deleted.segments.desc, prometheus.CounterValue, float64(d.Segments), r.labels.byReason[reason])
		add(c.deleted.bytes.desc, prometheus.CounterValue, float64(d.Bytes), r.labels.byReason[reason])
	}
	if !r.rec.LastFragment.IsZero() {
		add(c.lastEnd.desc, prometheus.GaugeValue, lastEndValue(r), r.labels.camera)
	}
	for i := range samples {
		ch <- &samples[i]
	}
	if r.write != nil {
		ch <- r.write.metric(c.write.desc, r.name)
		ch <- r.sync.metric(c.sync.desc, r.name)
	}
}

func lastEndValue(r *cameraRow) float64 { return float64(r.rec.LastFragment.UnixNano()) / 1e9 }

// labelsOf returns the label pairs of camera's series, building them on first use.
func (c *collector) labelsOf(camera string) *cameraLabels {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.labels[camera]
	if l == nil {
		l = &cameraLabels{
			camera: prometheus.MakeLabelPairs(c.lastEnd.desc, []string{camera}),
			text:   `camera="` + labelEscaper.Replace(camera) + `"`,
		}
		for reason := storage.DeleteReason(1); int(reason) < storage.NumDeleteReasons; reason++ {
			l.byReason[reason] = prometheus.MakeLabelPairs(c.deleted.segments.desc, []string{camera, reason.String()})
			l.textByReason[reason] = l.text + `,reason="` + labelEscaper.Replace(reason.String()) + `"`
		}
		c.labels[camera] = l
	}
	return l
}

// pruneLabels forgets the label pairs of the cameras no source knows any more.
func (c *collector) pruneLabels(rows map[string]*cameraRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.labels {
		if _, ok := rows[name]; !ok {
			delete(c.labels, name)
		}
	}
}

func (r *cameraRow) state() api.CameraState {
	var rs *recorder.CameraStats
	if r.hasRec {
		rs = &r.rec
	}
	return api.CameraStateOf(rs, r.pull)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
