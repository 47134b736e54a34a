//go:build unix && interop

package tier_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
)

// BenchmarkUpload measures upload throughput to the real S3 server: each
// iteration clears the upload marks of 8 segments of about 3.8 MB (10
// fragments of 47 frames of 8000 bytes) and runs a new Tier until all are
// uploaded again. It reports MB/s (SetBytes) and the CPU time this process
// spent per MB (the server's own CPU is not counted).
func BenchmarkUpload(b *testing.B) {
	f := newFixture(b, s3test.Shared(b), nil)
	var segs []storage.SegmentInfo
	var total int64
	for i := range 8 {
		info := f.record("bench", at(time.Duration(i)*time.Minute), 10, 8000, 1)
		segs = append(segs, info)
		total += info.Bytes
	}
	b.SetBytes(total)
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range segs {
			if err := f.store.MarkUpload("bench", segs[i].Start, storage.UploadMark{}); err != nil {
				b.Fatal(err)
			}
		}
		f.newTier()
		f.run()
		for i := range segs {
			f.waitUpload("bench", segs[i].Start, storage.UploadDone)
		}
		f.stopRun()
	}
	mb := float64(total) * float64(b.N) / 1e6
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/mb, "cpu-ms/MB")
}

// cpuTime returns the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
