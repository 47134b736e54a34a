// Package recorder turns one camera's RTP packets into segments of
// fragmented MP4 in storage.
//
// A Recording owns the per-track state: RTP sequence and SSRC checks, the
// depacketizer, timestamp unwrapping, and the mapping from media time to
// wall-clock time. That mapping is anchored once per timeline (at the first
// unit's arrival, refined by RTCP sender reports that agree with the server
// clock before the first fragment is written) and then advanced by media
// time only, so recorded times never jitter. When media time runs ahead of
// the server clock by more than ClockTolerance on any unit of any track,
// when it falls behind by more at a reference keyframe, or when a track's
// timestamps jump, the timeline breaks: the segment is sealed and a new one
// starts, re-anchored, at the next keyframe. Segments never overlap, and
// nothing is indexed later than the server clock plus ClockTolerance
// unless the server clock was seen stepping back (then a camera's new
// segments continue after its archive). A source whose timestamps keep
// racing ahead or jumping (more than ClockRaceLimit re-anchors in
// ClockRaceWindow) ends its recording with ErrClockRacing.
//
// Every input is treated as hostile. Each track's SSRC is fixed by its
// first packet: packets of other SSRCs are dropped and counted
// (TrackStats.ForeignSSRC) unless a run of consecutive packets over a
// second, with the track's own source silent, shows that the source
// restarted. A packet far outside the sequence window is dropped; the
// track resyncs only when several consecutive packets agree (RFC 3550
// A.1). Warnings that input can repeat per packet or per unit are limited
// to one line a minute per kind and recording, carrying the count of what
// they suppressed.
//
// Memory is bounded. A recording's open fragment lives in buffers from the
// store's size-classed pool, sized by the track's previous fragment; the
// fragment is encoded around its media in the same buffer, which waits in
// the write queue and goes back to the pool once written, so media is
// buffered once and a recording holds no buffer between fragments. The
// open fragment and the queued ones count against the recording's
// MaxRecordingBuffer and the process's MaxBuffer: a recording
// that would exceed either ends itself with ErrOverBudget, sealing what it
// had handed to storage, and Open fails with ErrMemoryExhausted while less
// than one recording's budget is left. Done and Err tell the recording's
// owner (the RTSP session) that and why it ended.
//
// Overload pushes back before it drops. A recording whose source is a TCP
// connection read by the goroutine that calls WriteRTP (OpenOptions.
// Backpressure) waits, up to BackpressureWait, when storage's write queue
// is full or its budget is held by fragments not yet written: that
// connection is then not read, and the source's buffer and TCP flow
// control hold the media back while memory stays put. Only when the wait
// runs out is the fragment dropped (or the recording ended over budget).
// A recording fed over UDP, whose reader serves other sources too, never
// waits: it drops the fragment at once and restarts at a keyframe. Both
// are counted per recording (Stats) and logged at most once a minute.
//
// Fragments start at a keyframe of the reference track (the first video
// track, else the first track) once FragmentDuration has passed, or at any
// frame after MaxFragmentDuration for cameras with long GOPs, or when
// their data reaches MaxFragmentBytes. Decode times for streams with
// B-frames are derived per fragment from the sorted presentation times
// (the k-th decoded frame takes the k-th smallest PTS, shifted by the
// stream's reorder delay) and written with composition offsets. Segments
// rotate at the first keyframe after SegmentDuration, on a codec parameter
// change, or on a timeline break.
//
// Counters are kept per recording (Recording.Stats, under the recording's
// lock) and per camera since the Recorder started (Recorder.CameraStats): a
// recording publishes its totals to the Recorder once per fragment and when
// it ends, under a lock of their own, so readers such as a metrics scrape
// never wait for a recording held back by storage, and the per-packet path
// gains no lock or atomic.
//
// recorder knows nothing of RTSP: it gets tracks and packets.
package recorder
