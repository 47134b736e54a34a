package main

import (
	"net/netip"
	"strings"
	"time"

	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/tier"
)

// rtspMetrics reports what the RTSP server has open at a scrape: connections by kind ("rtsp",
// "rtsps") and sessions by kind ("publish", "live", "playback" for archive paths, and "pull"
// for the pulled cameras recording now). server is asked at each call and may return nil (no
// server yet), so the metrics may be built before the server.
func rtspMetrics(server func() *rtsp.Server, pull *ingest.Pull) func() metrics.RTSPStats {
	return func() metrics.RTSPStats {
		st := metrics.RTSPStats{
			Connections: map[string]int{"rtsp": 0, "rtsps": 0},
			Sessions:    map[string]int{"publish": 0, "live": 0, "playback": 0, "pull": 0},
		}
		if s := server(); s != nil {
			stats := s.Stats()
			st.Connections["rtsp"] = stats.Connections - stats.TLSConnections
			st.Connections["rtsps"] = stats.TLSConnections
			st.SlowClients, st.UDPDrops = stats.SlowClients, stats.UDPDrops
			for _, ss := range s.Sessions() {
				st.Sessions[sessionKind(ss)]++
			}
		}
		for _, ps := range pull.States() {
			if ps.State == ingest.PullRecording {
				st.Sessions["pull"]++
			}
		}
		return st
	}
}

// sessionKind names an RTSP session for the metrics: a publisher, a viewer of an archive or a
// live viewer.
func sessionKind(s rtsp.SessionInfo) string {
	switch {
	case s.Mode == rtsp.ModeRecord:
		return "publish"
	case strings.HasPrefix(s.Path, archivePrefix):
		return "playback"
	}
	return "live"
}

// countingLimiter is the RTSP server's failure limiter that also counts each failure for the
// metrics.
type countingLimiter struct {
	rtsp.FailureLimiter
	failed func(protocol string)
}

// Fail implements rtsp.FailureLimiter.
func (c countingLimiter) Fail(peer netip.Addr, now time.Time) time.Duration {
	c.failed("rtsp")
	return c.FailureLimiter.Fail(peer, now)
}

// tierMetrics reports t's stats for the metrics; nil (no tier series) without tiering.
func tierMetrics(t *tier.Tier) func() metrics.TierStats {
	if t == nil {
		return nil
	}
	return func() metrics.TierStats {
		st := t.Stats()
		return metrics.TierStats{UploadedSegments: st.UploadedObjects, UploadedBytes: st.UploadedBytes,
			Failures: st.Failures, Refused: st.Refused, DeletedObjects: st.DeletedObjects,
			BacklogSegments: st.Queue, BacklogBytes: st.QueueBytes, OldestPending: st.OldestPending,
			Unreachable: st.Unreachable}
	}
}
