// Package alloctest bounds what one call of a parser under test allocates, so that a fuzz
// target fails on an input that makes memory grow without bound (STYLE.md "Fuzzing", issue 9
// item 1). It is imported by tests only.
//
// The bytes are read from the process-wide counter /gc/heap/allocs:bytes, which runtime/metrics
// reads without stopping the world, so it is cheap enough per fuzz input. Two caveats follow.
// The counter covers the whole process: a checked call must not run in parallel with other
// tests (fuzz targets and their seeds never do). And small objects are counted when their
// span leaves a P's cache, so one reading can be off by a few spans (8 to 80 KiB each) in
// either direction: a Base under 64 KiB would make the check flaky. Objects over 32 KiB are
// counted when allocated, so a parser that sizes a buffer from a length field is caught at
// once.
package alloctest

import (
	"runtime/metrics"
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

// HeapAllocs returns the bytes the process has allocated on the heap so far.
func HeapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Check runs parse, which is given n input bytes, and fails t if it allocated more than
// b.Max(n) bytes.
func Check(t testing.TB, b Bound, n int, parse func()) {
	t.Helper()
	before := HeapAllocs()
	parse()
	if got := HeapAllocs() - before; got > b.Max(n) {
		t.Fatalf("%d input bytes allocated %d bytes, bound %d", n, got, b.Max(n))
	}
}
