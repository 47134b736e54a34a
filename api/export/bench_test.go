package export_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/internal/bench"
)

// hourCamera is an hour of the fixture's clip, looped, in 10-minute
// segments: 3600 fragments, 90,000 video frames and about 169,000 AAC
// frames.
const hourCamera = "hour"

var (
	hourOnce sync.Once
	hourErr  error
)

// hourRecording adds hourCamera to the fixture's store on first use.
func hourRecording(b *testing.B) *export.Server {
	st := recordings(b)
	hourOnce.Do(func() {
		c, err := bench.LoadClip(filepath.Join(fix.dir, "main.mp4"))
		if err != nil {
			hourErr = err
			return
		}
		hourErr = record(st, hourCamera, c, 0, clipSecs*time.Second, t0, 60, 10*time.Minute)
	})
	if hourErr != nil {
		b.Fatal(hourErr)
	}
	srv, err := export.New(st, export.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// discard is a ResponseWriter that counts the body and keeps nothing.
type discard struct {
	h      http.Header
	status int
	n      int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(status int)      { d.status = status }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

func exportOnce(b *testing.B, srv *export.Server, method, format string) *discard {
	r := httptest.NewRequest(method, "/", nil)
	d := &discard{h: http.Header{}, status: 200}
	// The hour starts mid-GOP a little after the recording's start.
	if err := srv.ServeExport(d, r, hourCamera, t0.Add(frameTime(10)), t0.Add(frameTime(10)+time.Hour), format); err != nil {
		b.Fatal(err)
	}
	if d.status != 200 {
		b.Fatalf("status %d", d.status)
	}
	return d
}

// BenchmarkFirstByte measures the time to the first byte of a 1 h
// progressive export from page cache: list the segments, read every
// fragment's headers, build the moov. A HEAD request does all of that and
// writes the headers only.
func BenchmarkFirstByte(b *testing.B) {
	srv := hourRecording(b)
	exportOnce(b, srv, "GET", export.FormatMP4) // warm the page cache
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		exportOnce(b, srv, "HEAD", export.FormatMP4)
	}
	reportCPU(b, cpu)
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail with RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since since: on a machine
// shared with other work it says what an operation costs when wall-clock
// time says how long it waited for a core.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime()-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkBody measures the throughput of a planned 1 h progressive
// export's body from page cache: the header, then the sample data read
// range by range from the segment files.
func BenchmarkBody(b *testing.B) {
	srv := hourRecording(b)
	size, stream, err := export.PlanBody(srv, hourCamera, t0.Add(frameTime(10)), t0.Add(frameTime(10)+time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	if err := stream(io.Discard); err != nil { // warm the page cache
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := stream(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream measures the throughput of a whole 1 h export's body
// from page cache, planning included.
func BenchmarkStream(b *testing.B) {
	srv := hourRecording(b)
	for _, format := range []string{export.FormatMP4, export.FormatFMP4} {
		b.Run(format, func(b *testing.B) {
			d := exportOnce(b, srv, "GET", format)
			b.SetBytes(d.n)
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				exportOnce(b, srv, "GET", format)
			}
			reportCPU(b, cpu)
		})
	}
}
