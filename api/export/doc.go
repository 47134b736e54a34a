// Package export turns a window of one camera's recordings into a
// downloadable MP4 without re-encoding, for the HTTP API's
// /api/v1/cameras/{camera}/export.mp4.
//
// Two formats:
//
//   - "mp4", progressive: ftyp and moov first, then one mdat. The moov is
//     planned from the index's seek tables and the fragments' headers alone
//     (a prefix of each fragment is read, never its sample data), so the
//     first byte of an hour's export goes out in milliseconds; the mdat is
//     then read range by range from the segment files. The response goes
//     through http.ServeContent, so single and multiple Range requests,
//     If-Range, If-None-Match and HEAD work, with a strong ETag hashed from
//     the moov and the list of byte ranges: the same window over the same
//     recordings gives the same bytes and ETag. The moov's memory is bounded
//     by Options.MaxSamples.
//   - "fmp4", fragmented: an init with mvex, then the recorded fragments
//     rewritten one at a time, streamed as read until the window's end or
//     until the client leaves. It has no Range support.
//
// Both start at the keyframe fragment at or before the window's start (or at
// the first fragment after it when the start is not recorded). The
// progressive MP4 has an edit list per track so that playback begins exactly
// at the start; the fragmented one begins at the keyframe, media time 0, and
// says in the X-Camvault-Start header which instant that is. Both end with
// the last sample presented before the window's end; a segment still being
// recorded is included up to its last written fragment.
//
// A progressive export whose window reaches past the last written fragment
// of a segment still being recorded is answered 302 to the same URL with
// end set to that fragment's end (RFC 3339). That URL names bytes that do
// not change as the segment grows: players send their later Range requests
// without If-Range, and would otherwise read a moov and an mdat of two
// different files. The fragmented export streams what is written when it
// is read and is not redirected.
//
// At most Options.MaxConcurrent exports are served at once; one more is
// refused with 503 (ErrBusy) and a Retry-After.
//
// Gaps: the media timeline is continuous. Where nothing was recorded between
// two segments, the next segment's media follows the previous one's at once:
// the gap is collapsed, not shown as a freeze or a jump, so players never
// stall. The response lists the gaps (wall-clock from/to, RFC 3339) in the
// X-Camvault-Gaps header, at most 32 of them, and counts them in
// X-Camvault-Gap-Count. Within a segment the recorded decode times are
// kept exactly; each segment is placed by its wall-clock start, the same for
// every track, so audio stays in sync across segment joins.
//
// A change of codec parameters inside the window (a segment whose tracks or
// sample descriptions differ from the first one's) is refused with 409,
// naming the instant of the change; the windows before and after it export.
// Several sample entries in one track (stsc sample_description_index) were
// tried instead: ffmpeg decodes such a file across a resolution change, but
// Chromium's <video> hangs on it, so the export does not write them.
//
// The package reads recordings through storage only; it knows nothing of
// RTSP or playback, and never imports them (cmd/camvault's TestDependencies).
package export
