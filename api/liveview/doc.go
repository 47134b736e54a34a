// Package liveview turns a live camera's RTP, as live.Subscribe hands it to
// a viewer, into the fragmented MP4 that a browser plays through Media
// Source Extensions (MSE): an init segment for the tracks, then one
// fragment (moof and mdat, ISO/IEC 14496-12 §8.8) per access unit, from the
// depacketized units without re-encoding. The web page's live view
// (api's GET /api/v1/cameras/{camera}/live.ws) sends them over a
// WebSocket.
//
// Tracks. The first H.264 or H.265 video track and the first AAC or Opus
// audio track are played; other tracks (MJPEG, G.711, a second video) are
// named as skipped, since MSE plays none of them. The MIME type carries
// the RFC 6381 codecs parameter built from the parameter sets
// ("avc1.42C01E", "hvc1.1.6.L93.B0", "mp4a.40.2"), so that the page can ask
// MediaSource.isTypeSupported before it appends anything. The init segment
// is sent once every played track has its parameters (H.264 and H.265 may
// get theirs in-band, with the first keyframe), and again when they change.
//
// Timeline. Decode times start at 0 with the first unit sent. The other
// tracks join that timeline through the camera's RTCP sender reports
// (live sends each track's latest one first), or through arrival times
// when a track has none or its report disagrees with arrival by more than
// syncTolerance; audio and video then share one clock in the browser and
// cannot drift apart. A video track starts at a keyframe, and after lost
// packets (a viewer that skipped) waits for the next one, so the browser
// never decodes a broken picture (a decode error ends an MSE player).
// Decode times come from the RTP timestamps: where the relay skipped, the
// timeline has a gap, which the page steps over. A stream with B-frames
// has no decode times in its RTP: units are decoded in arrival order, a
// decode time runs at least one tick after the one before, and the
// composition offset (negative for a B-frame, trun version 1) keeps its
// presentation time; frames presented before the first one are dropped.
//
// Durations. The Muxer holds each track's latest unit until the next unit
// of that track arrives, so that every sample's duration is the true
// distance to the next (the browser's buffer then has neither gaps nor
// overlaps): a frame goes out one frame interval after it arrived. The
// cached frames a live viewer starts with come one tick apart (see package
// live), so the browser decodes them at once and shows the current picture.
//
// The package is pure: no I/O, no goroutines, no logging; time comes in
// through Config.Now. A Stream is not safe for concurrent use: live calls
// a viewer's Output from one goroutine.
package liveview
