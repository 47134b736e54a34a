// Package rtsptest holds the scripted RTSP peers of camvault's tests: one [Camera] (an RTSP
// server on loopback that runs a script per connection: answer OPTIONS, DESCRIBE, SETUP,
// PLAY and TEARDOWN, stream given RTP) and one [Player] (a client that sends requests and
// reads responses and interleaved frames, playing or publishing), plus the small waits,
// credentials and the allocation bound of the fuzz targets ([ParseAlloc]) the tests share.
//
// It is built on the wire packages (rtsp/base, rtsp/headers, rtsp/auth) only, never on the
// rtsp server or client under test, and it is imported by tests only (STYLE.md "Scripted
// peers"). Every wait is on an observable condition, bounded by [Timeout] so that a broken
// peer fails the test instead of hanging it.
package rtsptest
