// Package rtsp implements the RTSP 1.0 wire protocol (RFC 2326) and the
// server side camvault needs to accept pushed recordings (ANNOUNCE, SETUP
// with mode=record, RECORD).
//
// The package has two layers:
//
//   - A pure codec: [Request], [Response], [Header] and the typed headers
//     ([Transport], [Session], [Range], [RTPInfo], option tags) plus
//     interleaved `$` frames ([InterleavedFrame]). Every decoder is bounded
//     by a named limit ([Limits]), allocates at most what the limits allow,
//     does no logging and starts no goroutines.
//   - A [Server]: one TCP listener, one reader and one writer goroutine per
//     connection, a session table with timeouts, TCP-interleaved media and
//     one shared UDP port pair demultiplexed by peer address. What the
//     server does with a publication is the business of the [Handler] it is
//     given; this package knows nothing of recording or storage.
//
// Requirement IDs (RTSP-MSG-nn, RTSP-TR-nn, SEC-nn, ...) refer to
// shared/reference/RTSP.md and are cited in comments and test names.
//
// Caveats:
//   - Only the publishing side (ANNOUNCE/SETUP/RECORD) is served. DESCRIBE is
//     answered 404, PLAY and PAUSE outside a record session 454/455; the
//     dispatcher has one method per RTSP method so playback can be added.
//   - A session may only be controlled from the connection that created it
//     (RTSP-SES-07 allows this restriction). UDP sessions outlive their
//     control connection until a timeout; TCP-interleaved sessions die
//     with it.
//   - Session ids never appear in logs (SEC-08); log lines carry a
//     per-server serial number in the "session" attribute instead.
//   - Authentication and RTSP over HTTP are not implemented yet.
package rtsp
