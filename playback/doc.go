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
// With Config.Remote (an object store of segments uploaded by this node and
// others; package tier implements it, playback never imports tier) a window
// is built from the local index and the store, and each instant is played
// from one segment, its claim: where segments overlap (after a failover or
// a partition) the higher fencing revision wins, then the segment that began
// first, then the local copy of an uploaded one; a segment resumes at its
// first keyframe after an overlap ends, and frames at or after its claim's
// end are not sent, so no instant plays twice. The store is listed by the
// hour as the presentation needs it, from start= (or RemoteHorizon before
// the first local segment) to end= (or DESCRIBE time: a growing window
// follows the local recording), and what was listed and the inits read are
// kept for the presentation's life. A remote fragment is one ranged read;
// the sender reads RemoteReadAhead fragments ahead (across segment joins,
// with the next segment's init) so that pacing does not wait on the store.
// A failed read skips that fragment (an init: its segment) like a recording
// gap; it is counted (Stats) and logged once per presentation. Without
// Config.Remote nothing of this runs: the local index alone, as before.
//
// playback reads storage and writes RTP; it knows nothing of sockets.
package playback
