package rtsp_test

import (
	"runtime/metrics"
	"testing"
)

// maxParseAlloc bounds what one parse may allocate in the fuzz targets: a
// few times the header and body limits (STYLE.md "bounded memory").
const maxParseAlloc = 1 << 20

// checkAlloc runs parse and fails if it allocated more than maxParseAlloc.
// runtime/metrics is read without stopping the world, so it is cheap
// enough per fuzz input.
func checkAlloc(t *testing.T, parse func()) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	parse()
	metrics.Read(s)
	if n := s[0].Value.Uint64() - before; n > maxParseAlloc {
		t.Fatalf("parse allocated %d bytes", n)
	}
}
