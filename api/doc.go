// Package api is camvault's HTTP side: the JSON management API under
// /api/v1 (described by the embedded OpenAPI document at
// /api/v1/openapi.json), /metrics, /healthz and /readyz, and the timeline
// page at / (web.go, files under /web/), on plain HTTP and, with a
// certificate, HTTPS.
//
// It reads views and sends commands through small interfaces declared here
// ([CameraSource], [Archive], [RetentionRunner], [Exporter], [Sessions])
// that cmd/camvault adapts from storage, ingest, the recorder and the RTSP
// server; a source that is not wired answers 503. Users and rights come
// from package auth. It knows nothing of RTSP internals or playback.
//
// Rules:
//   - Every route but /healthz and the page's files authenticates first. Basic (the user's
//     argon2id password) and Bearer (a token whose SHA-256 is in the user's
//     tokens) are taken only over HTTPS or from a loopback peer; elsewhere
//     they are refused unchecked with 401, so a secret never crosses a
//     network in clear text. The peer is the connection's address, never
//     a forwarded header. Failures go through the same auth.Limiter as
//     RTSP: an address in its delay is refused unchecked, with
//     Retry-After.
//   - Rights: api (per camera glob, none meaning every camera) for the
//     API, playback for exports, metrics for /metrics and for /readyz from
//     a non-loopback peer. A camera's right is checked before anything
//     tells whether it exists: a caller without it gets 403 (401 when
//     anonymous) for cameras that exist and cameras that do not. Lists show
//     only the cameras the caller may see; an unknown or invisible hold or
//     session is 404 alike.
//   - Every 4xx and 5xx answer is application/problem+json (RFC 9457),
//     the mux's own 404 and 405 included; a 500 carries no error text.
//   - JSON answers and /metrics have a write deadline for the whole answer
//     (Config.WriteTimeout); the exports may stream for hours, but each of
//     their writes has that deadline, so a client that stops reading is
//     dropped.
package api
