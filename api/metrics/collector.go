package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// collector turns the sources' snapshots into metrics at each scrape, and collects the
// storage histograms after pruning the cameras every source has forgotten. Between scrapes
// it keeps only the cameras' label pairs.
type collector struct {
	m       *Metrics
	camera  []cameraSeries
	deleted struct{ segments, bytes *prometheus.Desc }
	lastEnd *prometheus.Desc
	process processDescs

	// mu guards labels: each camera's label pairs, built once and kept while some source
	// knows the camera (dropped with it in Collect).
	mu     sync.Mutex
	labels map[string]*cameraLabels
}

// cameraLabels are the sorted label pairs of a camera's series: the camera alone, and the
// camera with each deletion reason (index 0 unused). They are shared by every scrape and
// never modified.
type cameraLabels struct {
	camera   []*dto.LabelPair
	byReason [storage.NumDeleteReasons][]*dto.LabelPair
}

// cameraRow is what the sources say about one camera; a source that does not know the
// camera leaves its part zero (pull nil).
type cameraRow struct {
	rec  recorder.CameraStats
	st   storage.CameraCounters
	pull *ingest.CameraState
	// hasRec says the recorder knows the camera.
	hasRec bool
}

// cameraSeries is one per-camera series with the label camera only.
type cameraSeries struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(r *cameraRow) float64
}

func newCollector(m *Metrics) *collector {
	c := &collector{m: m, process: newProcessDescs(), labels: make(map[string]*cameraLabels)}
	counter := func(name, help string, value func(r *cameraRow) uint64) {
		c.camera = append(c.camera, cameraSeries{
			desc: prometheus.NewDesc(name, help, []string{"camera"}, nil), typ: prometheus.CounterValue,
			value: func(r *cameraRow) float64 { return float64(value(r)) },
		})
	}
	gauge := func(name, help string, value func(r *cameraRow) float64) {
		c.camera = append(c.camera, cameraSeries{
			desc: prometheus.NewDesc(name, help, []string{"camera"}, nil), typ: prometheus.GaugeValue, value: value,
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
		desc: prometheus.NewDesc("camvault_camera_crash_lost_seconds_total",
			"Estimated recording time lost to start-up crash repair: from the last whole fragment's end to the file's modification time.",
			[]string{"camera"}, nil),
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
	c.deleted.segments = prometheus.NewDesc("camvault_camera_segments_deleted_total",
		"Segments retention deleted, by reason.", []string{"camera", "reason"}, nil)
	c.deleted.bytes = prometheus.NewDesc("camvault_camera_deleted_bytes_total",
		"Bytes of the segments retention deleted, by reason.", []string{"camera", "reason"}, nil)
	c.lastEnd = prometheus.NewDesc("camvault_camera_last_fragment_timestamp_seconds",
		"Wall-clock end of the last fragment handed to storage, in Unix seconds.", []string{"camera"}, nil)
	return c
}

// Describe sends every descriptor the collector uses.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.camera {
		ch <- s.desc
	}
	ch <- c.deleted.segments
	ch <- c.deleted.bytes
	ch <- c.lastEnd
	c.process.describe(ch)
	c.m.sourceErrors.Describe(ch)
	c.m.storage.write.Describe(ch)
	c.m.storage.sync.Describe(ch)
}

// Collect reads every source once and sends the per-camera and process-wide series.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	rows := c.rows()
	obs := c.m.storage
	obs.prune(rows)
	obs.write.Collect(ch)
	obs.sync.Collect(ch)
	for name, r := range rows {
		c.collectCamera(ch, name, r, c.labelsOf(name))
	}
	c.pruneLabels(rows)
	c.collectProcess(ch, rows)
	// The source errors go out after the sources were read, in the same Collect, so a scrape
	// counts its own failures (the registry runs separately registered collectors concurrently).
	c.m.sourceErrors.Collect(ch)
}

// rows returns every camera the recorder, storage or the pulls know, by name.
func (c *collector) rows() map[string]*cameraRow {
	src := &c.m.src
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
			r = &cameraRow{}
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

func (c *collector) collectCamera(ch chan<- prometheus.Metric, name string, r *cameraRow, labels *cameraLabels) {
	const reasons = storage.NumDeleteReasons - 1 // reason 0 is unused
	samples := make([]sample, 0, len(c.camera)+2*reasons+1)
	add := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels []*dto.LabelPair) {
		samples = append(samples, sample{desc: desc, typ: typ, value: v, labels: labels})
	}
	for _, s := range c.camera {
		add(s.desc, s.typ, s.value(r), labels.camera)
	}
	for reason := storage.DeleteReason(1); int(reason) < storage.NumDeleteReasons; reason++ {
		d := r.st.Deleted[reason]
		add(c.deleted.segments, prometheus.CounterValue, float64(d.Segments), labels.byReason[reason])
		add(c.deleted.bytes, prometheus.CounterValue, float64(d.Bytes), labels.byReason[reason])
	}
	if !r.rec.LastFragment.IsZero() {
		add(c.lastEnd, prometheus.GaugeValue, float64(r.rec.LastFragment.UnixNano())/1e9, labels.camera)
	}
	for i := range samples {
		ch <- &samples[i]
	}
}

// labelsOf returns the label pairs of camera's series, building them on first use.
func (c *collector) labelsOf(camera string) *cameraLabels {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.labels[camera]
	if l == nil {
		l = &cameraLabels{camera: prometheus.MakeLabelPairs(c.lastEnd, []string{camera})}
		for reason := storage.DeleteReason(1); int(reason) < storage.NumDeleteReasons; reason++ {
			l.byReason[reason] = prometheus.MakeLabelPairs(c.deleted.segments, []string{camera, reason.String()})
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
