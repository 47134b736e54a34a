// Package playback serves the archive over RTSP: the DESCRIBE/SETUP/PLAY/
// PAUSE side of rtsp.Handler for rtsp://HOST/archive/{camera}[?start=T&end=T].
//
// A presentation is a window of one camera's recordings: [start, end) in
// wall-clock time, clamped to what is recorded, or growing with a recording
// that is still going on (time-shift). npt 0 is the window's start. PLAY
// positions at the keyframe at or before the requested time (the next
// recorded fragment when the time falls in a gap), and one sender goroutine
// per session reads whole fragments from storage, paces their samples by
// media time against a monotonic clock (or not at all with Rate-Control: no),
// packetizes them and hands the packets to the session's rtsp.Output.
//
// RTP timestamps come from a continuous counter per stream: seeks, pauses,
// segment joins and recording gaps never make them jump. The true wall-clock
// time of each frame travels in RTCP sender reports (with rate control: one
// just before each stream's first packet of every PLAY, so that a seek is
// placed at once, then one every SenderReportInterval) and, for clients that
// require onvif-replay, in the ONVIF replay header extension (0xABAC) on the
// first packet of every access unit.
//
// playback reads storage and writes RTP; it knows nothing of sockets.
package playback
