// Package interop holds camvault's interop tests against real ffmpeg and
// GStreamer. They build the camvault binary, run it on loopback ports with
// a temporary data directory, and check what it recorded with ffprobe and
// an ffmpeg decode. Run them with `go test -tags interop ./internal/interop/`;
// outside CI (CI unset) a missing tool skips a test, in CI it fails it.
package interop
