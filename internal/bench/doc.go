// Package bench is `camvault bench`: load tests that run a camvault binary
// as a child process on loopback, drive it with many RTSP publishers
// (push), players (play) or cameras it pulls (pull), and report camvault's
// CPU and memory (from /proc) and whether every frame arrived.
//
// Run is the whole command. Every benchmark replays one pre-encoded 720p25
// H.264+AAC clip (EncodeClip, cached on disk) turned into RTP once
// (LoadClip) and shared read-only by every session, so the figures measure
// camvault and not the load generator. The clip functions are exported for
// tests that need recordings of known content.
//
// The RTSP it speaks is package rtsp's wire code (Request, Response,
// InterleavedFrame, the header types and Digest), not rtsp.Server or
// rtsp.Client: the bench must control every write to reproduce a camera's
// traffic pattern. It never imports ingest or playback, and never a test
// helper: it is linked into the product binary.
package bench
