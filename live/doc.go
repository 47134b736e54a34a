// Package live relays cameras that are being recorded (pushed or pulled) to
// viewers: DESCRIBE/SETUP/PLAY of rtsp://HOST/{camera} gets the RTP the
// camera sends, unchanged but for the timestamps of the first frames (see
// below), over any transport the RTSP server offers.
//
// A Relay wraps the recorder's ingest.Sink: every recording opened through
// it also feeds a hub, one per live camera. The hub copies each packet once
// into a pooled, reference-counted buffer and hands a reference to every
// viewer's queue; the source never waits for a viewer. Each playing viewer
// has one goroutine that drains its queue into its rtsp.Output.
//
// Instant start. The hub keeps the current group of pictures of the
// camera's first video track: the packets from the start of the access
// unit that holds the latest keyframe (parameter sets included) up to now,
// bounded by Config.GOPCacheBytes. A new viewer's queue starts with that
// group, so its first frame is the keyframe and it decodes from the first
// packet. So that the viewer does not then stay as far behind live as the
// keyframe is old, nor play the cached frames fast (the fault of other
// relays' caches), the cached frames are sent with their RTP timestamps
// moved to one tick apart just before the newest cached frame: a player
// decodes them all (they are references) and presents them within a
// fraction of a millisecond, so the first picture that stays on screen is
// the current one and playback goes on at real time from there. Only the
// cached frames are retimed; every later packet has the camera's own
// timestamps, sequence numbers and SSRC. Cached audio is not sent: audio
// starts with the next live packet, and the camera's last RTCP sender
// report of every track, sent first, maps both to the same clock, so audio
// and video start in sync and cannot drift. A camera without video starts
// at its next packet. RTP-Info gives each stream's first sequence number
// and the RTP time of the live edge.
//
// Slow viewers. A viewer's queue is bounded in bytes (ViewerQueueBytes).
// When a packet does not fit, the viewer skips: it is sent nothing more
// until the next keyframe's access unit, which it gets whole, so it never
// decodes a broken picture and never holds back the camera or other
// viewers. A viewer that has been skipping for WriteTimeout is ended with
// rtsp.ErrSlowClient and a log line; one whose TCP connection does not
// take a packet for the RTSP server's write timeout is dropped by the
// server.
//
// When the camera's recording ends, every viewer gets the rest of its
// queue and an RTCP BYE per stream, and its session ends.
package live
