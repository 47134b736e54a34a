package metrics

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus"
)

// processCollector sends the process-wide series read at scrape time, and then the count of
// sources that failed, this scrape included.
type processCollector struct {
	m *Metrics
	processDescs
}

// processDescs are the descriptors of processCollector's series.
type processDescs struct {
	diskFree, diskSize, writeRate, forecast, indexSize *prometheus.Desc
	connections, sessions, slowClients, udpDrops       *prometheus.Desc
}

// The RTSP kinds always reported (zero when RTSPStats leaves them out), so that their
// series exist from the first scrape on.
var (
	connectionKinds = []string{"rtsp", "rtsps"}
	sessionKinds    = []string{"publish", "live", "playback", "pull"}
)

func newProcessDescs() processDescs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return processDescs{
		diskFree:  d("camvault_disk_free_bytes", "Bytes free for camvault on the data directory's file system."),
		diskSize:  d("camvault_disk_size_bytes", "Size of the data directory's file system, in bytes."),
		writeRate: d("camvault_storage_write_rate_bytes_per_second", "Bytes per second written to the data directory now."),
		forecast: d("camvault_disk_full_forecast_seconds",
			"Seconds until the data directory's file system is full at the current write rate, before retention frees any; absent while nothing is written."),
		indexSize:   d("camvault_index_size_bytes", "Size of the recording index file, in bytes."),
		connections: d("camvault_rtsp_connections", "Open RTSP connections, by kind (rtsp, rtsps).", "kind"),
		sessions:    d("camvault_rtsp_sessions", "RTSP sessions, by kind (publish, live, playback, pull).", "kind"),
		slowClients: d("camvault_rtsp_slow_clients_total", "Viewers dropped for not keeping up."),
		udpDrops:    d("camvault_rtsp_udp_drops_total", "RTP/RTCP datagrams dropped by the RTSP server's UDP sockets."),
	}
}

func newProcessCollector(m *Metrics) *processCollector {
	return &processCollector{m: m, processDescs: newProcessDescs()}
}

// Describe sends every descriptor the collector uses.
func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	d := &c.processDescs
	for _, desc := range []*prometheus.Desc{d.diskFree, d.diskSize, d.writeRate, d.forecast, d.indexSize,
		d.connections, d.sessions, d.slowClients, d.udpDrops} {
		ch <- desc
	}
	c.m.sourceErrors.Describe(ch)
}

// Collect sends the process-wide series. Without Sources.WriteRate, the write rate is the
// sum of the cameras' recorder bitrates.
func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	src, d := &c.m.src, &c.processDescs
	rate := 0.0
	if src.WriteRate != nil {
		rate = src.WriteRate()
	} else {
		for _, r := range c.m.rows() {
			rate += r.rec.Bitrate / 8
		}
	}
	ch <- prometheus.MustNewConstMetric(d.writeRate, prometheus.GaugeValue, rate)
	if src.DiskSpace != nil {
		if free, total, err := src.DiskSpace(); err != nil {
			c.m.sourceErrors.WithLabelValues(sourceDisk).Inc()
		} else {
			ch <- prometheus.MustNewConstMetric(d.diskFree, prometheus.GaugeValue, float64(free))
			ch <- prometheus.MustNewConstMetric(d.diskSize, prometheus.GaugeValue, float64(total))
			if rate > 0 {
				ch <- prometheus.MustNewConstMetric(d.forecast, prometheus.GaugeValue, float64(free)/rate)
			}
		}
	}
	if src.IndexSize != nil {
		if n, err := src.IndexSize(); err != nil {
			c.m.sourceErrors.WithLabelValues(sourceIndex).Inc()
		} else {
			ch <- prometheus.MustNewConstMetric(d.indexSize, prometheus.GaugeValue, float64(n))
		}
	}
	if src.RTSP != nil {
		st := src.RTSP()
		collectKinds(ch, d.connections, connectionKinds, st.Connections)
		collectKinds(ch, d.sessions, sessionKinds, st.Sessions)
		ch <- prometheus.MustNewConstMetric(d.slowClients, prometheus.CounterValue, float64(st.SlowClients))
		ch <- prometheus.MustNewConstMetric(d.udpDrops, prometheus.CounterValue, float64(st.UDPDrops))
	}
	// The source errors go out after the sources were read, in the same Collect, so a scrape
	// counts its own failures (the registry runs separately registered collectors concurrently).
	c.m.sourceErrors.Collect(ch)
}

// collectKinds sends one gauge per kind: the known kinds, zero when absent, and any other
// kind the map reports.
func collectKinds(ch chan<- prometheus.Metric, desc *prometheus.Desc, known []string, counts map[string]int) {
	all := maps.Clone(counts)
	if all == nil {
		all = make(map[string]int, len(known))
	}
	for _, k := range known {
		if _, ok := all[k]; !ok {
			all[k] = 0
		}
	}
	for kind, n := range all {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), kind)
	}
}
