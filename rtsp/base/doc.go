// Package base is the RTSP 1.0 message codec (RFC 2326 §4, §6, §7, §10.12): [Request],
// [Response], the [Header] map, [Method] and status codes, and interleaved `$` frames
// ([InterleavedFrame]). Every decoder is bounded by a named limit ([Limits]) and allocates
// at most what the limits allow.
//
// The package is pure: functions over bytes and bufio.Readers. It opens no sockets, starts
// no goroutines and does no logging; cmd/camvault's TestDependencies (imports) and
// TestWireNoGoroutines (go statements) keep it so. Failures
// that the server answers with a status come back as an [*Error] carrying it.
package base
