// Package alloctest bounds what one call of a parser under test allocates, so that a fuzz
// target fails on an input that makes memory grow without bound (STYLE.md "Fuzzing", issue 9
// item 1). It is imported by tests only.
//
// The bytes are TotalAlloc of runtime.ReadMemStats, which stops the world and flushes every
// P's span cache, so a reading is exact: the cheaper runtime/metrics counter
// /gc/heap/allocs:bytes counts small objects only when their span leaves a cache, and a GC
// during the call flushes the other Ps' caches into it, which under the fuzzer made a 9-byte
// parse of 80 bytes read as 414 KB. The price is about 10 to 25 µs per call, which caps the
// fuzzer at some tens of thousands of inputs per second and worker. The counter covers the
// whole process: a checked call must not run in parallel with other tests (fuzz targets and
// their seeds never do).
package alloctest

import (
	"runtime"
	"testing"
)

// Bound is an allocation bound: a call given n input bytes may allocate at most
// Base + PerByte×n bytes.
type Bound struct {
	// Base is the fixed allowance, in bytes, for buffers and structures any input gets.
	Base uint64
	// PerByte is the allowance, in bytes, per input byte, for copies and parsed structures.
	PerByte uint64
}

// Max returns the bound for n input bytes.
func (b Bound) Max(n int) uint64 { return b.Base + b.PerByte*uint64(n) }

// Allocated runs f and returns the bytes the process allocated on the heap meanwhile.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Check runs parse, which is given n input bytes, and fails t if it allocated more than
// b.Max(n) bytes.
func Check(t testing.TB, b Bound, n int, parse func()) {
	t.Helper()
	if got := Allocated(parse); got > b.Max(n) {
		t.Fatalf("%d input bytes allocated %d bytes, bound %d", n, got, b.Max(n))
	}
}
