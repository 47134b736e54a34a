// Package recorder turns one camera's RTP packets into segments of
// fragmented MP4 in storage.
//
// A Recording owns the per-track state: RTP sequence and SSRC checks, the
// depacketizer, timestamp unwrapping, and the mapping from media time to
// wall-clock time. That mapping is anchored once per timeline (at the first
// unit's arrival, refined by RTCP sender reports that agree with the server
// clock before the first fragment is written) and then advanced by media
// time only, so recorded times never jitter. When media time and the server
// clock drift apart by more than ClockTolerance, or a track's timestamps
// jump, the timeline breaks: the segment is sealed and a new one starts,
// re-anchored, at the next keyframe. Segments never overlap.
//
// Fragments start at a keyframe of the reference track (the first video
// track, else the first track) once FragmentDuration has passed, or at any
// frame after MaxFragmentDuration for cameras with long GOPs. Decode times
// for streams with B-frames are derived per fragment from the sorted
// presentation times (the k-th decoded frame takes the k-th smallest PTS,
// shifted by the stream's reorder delay) and written with composition
// offsets. Segments rotate at the first keyframe after SegmentDuration, on
// a codec parameter change, or on a timeline break.
//
// recorder knows nothing of RTSP: it gets tracks and packets.
package recorder
