// Package rtsp is camvault's RTSP 1.0 (RFC 2326) server and client: the
// server accepts pushed recordings (ANNOUNCE, SETUP with mode=record,
// RECORD) and serves archives to players (DESCRIBE, SETUP, PLAY, PAUSE,
// TEARDOWN); the client pulls from cameras.
//
// The wire protocol itself lives in pure subpackages that open no sockets,
// start no goroutines and do no logging (cmd/camvault's TestDependencies
// keeps their imports so, TestWireNoGoroutines their code):
//
//   - [github.com/camvault/camvault/rtsp/base]: requests, responses, the
//     header map, status codes, message limits and interleaved `$` frames.
//   - [github.com/camvault/camvault/rtsp/headers]: the typed headers
//     (Transport, Session, Range, RTP-Info, Scale, Speed, Frames, option tags).
//   - [github.com/camvault/camvault/rtsp/auth]: Basic and Digest challenges,
//     answers and their server-side checks.
//   - rtsp/internal/lex: the grammar's character classes (digits, tokens,
//     control characters) that the three and this package share.
//
// This package is the layer on top:
//
//   - A [Server]: one TCP listener, one reader and one writer goroutine per
//     connection, a session table with timeouts, TCP-interleaved media and
//     one shared UDP port pair demultiplexed by peer address. What the
//     server does with a publication or a [Presentation] is the business of
//     the [Handler] it is given; this package knows nothing of recording or
//     storage. Play media goes out through an [Output]: TCP frames through
//     the connection's bounded media queue, behind any queued response
//     (RTSP-IL-03), UDP datagrams straight from the shared pair. Operators
//     see the session table through [Server.Sessions] (with byte counts
//     kept per packet by atomic adds), end a session with [Server.Kick],
//     read gauges and counters in [Server.Stats] and PLAY-to-first-packet
//     latencies through Config.OnPlayStart.
//   - A client ([Dial], [Client.Run]) that pulls from cameras: OPTIONS,
//     DESCRIBE, SETUP over TCP interleaved or UDP, PLAY, keepalives, receiver
//     reports, Basic and Digest (MD5, MD5-sess, SHA-256) authentication.
//     It follows redirects: 301 and 302 answers during Dial, and REDIRECT
//     requests while Run plays (ClientConfig.MaxRedirects, OnRedirect).
//   - Redirects to another server (a camera owned by another node,
//     RTSP-M-08, RTSP-M-39): a Handler or Presentation returns a
//     [RedirectError] for a 301 or 302 with Location, and the code behind a
//     play session sends its client a REDIRECT request through
//     PlayRequest.Redirect ([Redirector]). The session then ends with the
//     client's TEARDOWN or after Config.RedirectGrace. ffmpeg and GStreamer
//     follow 3xx on DESCRIBE without a hop limit and ignore REDIRECT
//     requests (redirect_interop_test.go).
//
// Requirement IDs (RTSP-MSG-nn, RTSP-TR-nn, SEC-nn, ...) refer to
// shared/reference/RTSP.md and are cited in comments and test names.
//
// Caveats:
//   - Only aggregate control: PLAY, PAUSE and TEARDOWN on a track URL of
//     a session with several streams get 460.
//   - A session may only be controlled from the connection that created it
//     (RTSP-SES-07 allows this restriction). Recording UDP sessions outlive
//     their control connection until a media timeout; every other session
//     dies with it. A playing TCP session never times out while its
//     connection lives (ONVIF-14); a viewer that does not read is dropped
//     after Config.WriteTimeout (SEC-07).
//   - Media queued before a PAUSE or a seek is still sent after its
//     response (in order, with lower sequence numbers than the new
//     RTP-Info); UDP media goes to client_port, never to a latched port.
//   - Session ids never appear in logs (SEC-08) nor in [SessionInfo];
//     log lines carry a per-server serial number in the "session"
//     attribute instead, which is also SessionInfo.ID.
//   - Server-side authentication is the pure auth.Server: 401 challenges
//     (Digest SHA-256 and MD5 with qop=auth, Basic only over TLS) and
//     Check of an Authorization header against HA1 values or a password
//     checker (auth.Credentials), called through [Access].
//   - RTSP over HTTP (RTSP-HT-01..07, the wire in
//     [github.com/camvault/camvault/rtsp/tunnel]): a connection whose first
//     bytes are an HTTP GET or POST is a tunnel half. A GET with an
//     x-sessioncookie is answered at once and becomes an ordinary
//     connection whose reads decode the base64 body of the POST with the
//     same cookie and whose writes go to the GET; the POST is never
//     answered. The halves pair by cookie in a bounded table
//     (Config.MaxPendingTunnels), wait for each other at most
//     Config.TunnelTimeout, and must have the same owner: the same user
//     when the POST authenticates, else the same address, and TLS on both
//     or neither. A client may replace its POST while the GET lives; data
//     on the GET's connection, base64 that does not decode or a silent GET
//     end the tunnel (Stats.TunnelsRefused). Credentials on a tunnel
//     request are checked as RTSP's; the RTSP requests inside are
//     authenticated as usual. [Server.ServeConn] serves connections
//     accepted elsewhere through the same path: the tunnels and WebSockets
//     (subprotocol rtsp.onvif.org) of the HTTP port. Media in a tunnel or
//     a WebSocket is interleaved: SETUP asking for UDP gets 461.
package rtsp
