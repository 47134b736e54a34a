package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/api/metrics"
)

// BenchmarkScrape200Cameras serves /metrics for 200 cameras that each recorded two
// fragments (a real Store and Recorder), as Prometheus scrapes it: plain text, and gzip as
// Prometheus asks by default. It reports the 99th percentile of the scrapes in ms and the
// process CPU time per scrape (which a busy machine inflates less than wall time).
func BenchmarkScrape200Cameras(b *testing.B) {
	f := newFixture(b, metrics.Sources{
		RTSP:      rtspStats,
		DiskSpace: func() (int64, int64, error) { return 1 << 40, 4 << 40, nil },
		IndexSize: func() (int64, error) { return 64 << 20, nil },
	})
	for i := range 200 {
		cam := fmt.Sprintf("camera-%03d", i)
		f.record(b, cam, 2)
		f.observeWrites(cam)
	}
	h := f.m.Handler()
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			var took []time.Duration
			var size int
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, req)
				took = append(took, time.Since(start))
				size = w.Body.Len()
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/1e6/float64(len(took)), "cpu-ms/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100])/1e6, "p99-ms")
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
