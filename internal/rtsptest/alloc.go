package rtsptest

import "github.com/camvault/camvault/internal/alloctest"

// ParseAlloc is the allocation bound of the fuzz targets of rtsp and its wire packages: a
// parse of n input bytes may allocate at most 128 KiB + 64 bytes per byte. The base covers
// what the base.Limits let a message take before its bytes arrive (a body of up to
// base.DefaultMaxBody is allocated when its Content-Length is read) and the hashes of a
// Digest answer. Measured over seeds and corpus: header values at most 1.6 KiB, the client's
// camera stream 5.5 KiB, a request 37 KiB for 20,047 bytes, a challenge with its answer
// 36 KiB.
var ParseAlloc = alloctest.Bound{Base: 128 << 10, PerByte: 64}
