// Package bench is `camvault bench`: load tests that run a camvault binary
// as a child process on loopback, drive it with many RTSP publishers
// (push), players (play), cameras it pulls (pull) or live viewers of pushed
// and pulled cameras (live), and report camvault's CPU and memory (from
// /proc) and whether every frame arrived. With -http-probe, push also times
// camvault's HTTP API and /metrics while it records, over loopback HTTP
// like any client (never by importing api).
//
// Live measures each round twice on the same push: without viewers (the
// baseline) and with them, so that the cost per viewer is the difference
// divided by the viewers. Every live viewer checks that its first video
// packet starts a keyframe and carries RTP-Info's sequence number, times
// PLAY to that packet, and checks that no sequence number is missing
// after it; the recording is checked as push checks it. Its on-demand
// phase times DESCRIBE to the first keyframe of cameras that camvault
// pulls only for viewers (on_demand: true), from the bench's camera. Its
// clip has a keyframe every 2 s by default (-gop), the GOP the issue's
// peers were measured with; the other benchmarks' clip has one a second.
//
// Run is the whole command. Every benchmark replays one pre-encoded 720p25
// H.264+AAC clip (EncodeClip, cached on disk) turned into RTP once
// (LoadClip) and shared read-only by every session, so the figures measure
// camvault and not the load generator. The clip functions are exported for
// tests that need recordings of known content (internal/clip, the interop
// tests).
//
// The measured traffic goes over the wire only. Around it the bench works
// on data directories in-process, while no camvault runs on them: bench
// play and bench pull -source archive record the clip through the real
// recorder into storage before they start the camvault that serves it
// (play also fills the index with synthetic cameras), and push, pull and
// live open storage afterwards to check what was recorded. It never reaches
// into ingest or playback.
//
// The RTSP it speaks is the wire packages' (rtsp/base, rtsp/headers,
// rtsp/auth), not rtsp.Server or rtsp.Client: the bench must control every
// write to reproduce a camera's traffic pattern. It never imports a test
// helper: it is linked into the product binary.
package bench
