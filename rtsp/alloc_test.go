package rtsp

import "github.com/camvault/camvault/internal/alloctest"

// ParseAlloc is the allocation bound of the fuzz targets (alloctest.Check), exported to the
// black-box tests: a parse of n input bytes may allocate at most 256 KiB + 64 bytes per byte.
// The base covers what the Limits let one message hold before its bytes arrive (a body of
// up to DefaultMaxBody is allocated when its Content-Length is read) and the hashes of a
// Digest answer. Measured over the seeds and corpus: header values under 1 KiB, messages
// 37 KiB for 20,047 bytes, WWW-Authenticate with its answer 36 KiB.
var ParseAlloc = alloctest.Bound{Base: 256 << 10, PerByte: 64}
