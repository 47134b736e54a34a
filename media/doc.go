// Package media turns what cameras send into what the recorder stores: SDP media become
// [Track] values, RTP packets become access units ([Unit]) through a per-track
// [Depacketizer], and tracks become the ftyp+moov of a fragmented MP4 ([InitSegment]).
// A per-track [Packetizer] turns units back into RTP packets for playback and load tests.
//
// # What it owns
//
//   - SDP → Track: payload type, clock rate, channels, and the codec configuration that the
//     MP4 sample entry needs (H.264/H.265 parameter sets, AAC AudioSpecificConfig and AU-header
//     layout), parsed with pion/sdp and validated with mp4ff (RTSP.md §14, PL-*-01).
//   - RTP → Unit for H.264 (RFC 6184 modes 0/1), H.265 (RFC 7798 without DONL/PACI), AAC
//     (RFC 3640 mpeg4-generic), Opus (RFC 7587), G.711 (RFC 3551) and MJPEG (RFC 2435).
//     Units are in MP4 sample format: length-prefixed NAL units without parameter sets,
//     raw AAC AUs, whole JPEG images.
//   - Track → MP4 sample entries (avc1, hvc1, mp4a, Opus, ulaw, alaw, jpeg) via mp4ff, and
//     back: [TracksFromInit] reads the tracks of a stored init segment for playback.
//   - Track → SDP: [MarshalSDP] writes the DESCRIBE answer of an archive presentation
//     (RTSP.md SDP-02..07, ONVIF-03).
//   - Unit → RTP, the inverse of the depacketizers (RTP-10, RTP-11, PL-H264-10): H.264
//     single NAL/STAP-A/FU-A, H.265 single/AP/FU, AAC one AU per packet or RFC 3640
//     fragments, Opus, G.711 and RFC 2435 JPEG with in-band tables (Q = 255).
//
// # What it must never know
//
// media does no I/O, starts no goroutines, keeps no clocks and never logs: it is pure
// functions and single-owner state machines over bytes. It knows nothing of RTSP sessions,
// sockets, storage, segments or wall-clock time. It imports only pion/rtp, pion/sdp and
// mp4ff. Sequence numbers, reordering, SSRC changes and timestamp unwrapping belong to the
// caller: on a sequence gap or a new SSRC the caller calls [Depacketizer.Reset] (RTP-04,
// RTP-07); on ParamsChanged it starts a new segment with a new init segment.
//
// # Bounds and allocation
//
// Every depacketizer is bounded by [Limits] and every SDP by [SDPLimits] (SEC-12, SEC-13):
// an oversized unit is dropped before its buffer grows past the limit. Parameter sets, from
// SDP, RTP or init segments, are capped at MaxParamSetBytes and checked by bounded parsers
// of camvault's own before any mp4ff parser sees them, because some of mp4ff's loop or
// allocate without bound on small input (issue 9; the list is in paramset.go). In steady state Push
// allocates nothing: each depacketizer reuses one growing buffer, [Unit.Data] is a slice of
// it (or of the packet payload for Opus, G.711 and unfragmented AAC) valid only during the
// emit call, and errors are preallocated sentinels. Parameter-set changes allocate.
//
// # Caveats
//
//   - DTS is not derived: Unit.PTS is the RTP timestamp; B-frame streams need the recorder
//     to compute DTS and composition offsets (PL-H264-09).
//   - Only the last in-band SPS/PPS/VPS is kept per track (one parameter-set ID); streams that
//     alternate several SPS IDs get only the latest in the sample entry.
//   - Multi-layer H.265 is not recorded: a VPS with vps_extension_flag set (MV-HEVC,
//     SHVC) is dropped like an unparsable one, and so are parameter sets whose fields are
//     out of the H.265 ranges that bound parsing (for example more than 64 short-term
//     reference picture sets or a bit depth above 16).
//   - Open-GOP streams without IDR/IRAP pictures never produce Key video units (PL-H264-07).
//   - The ONVIF JPEG header extension (PL-JPEG-05), so JPEG above 2040x2040, and MP4A-LATM
//     (PL-AAC-07) are not supported; neither are H.264 mode 2, H.265 DONL/PACI or AAC
//     interleaving, which are dropped with ErrUnsupportedPacket.
//   - AAC from a sender that never sets the marker bit is emitted one packet late (a lone AU
//     without marker could be the first gortsplib-style fragment, PL-AAC-04).
//   - The Packetizer never aggregates slices or AAC AUs; it sends JPEG sizes rounded up to
//     multiples of 8 and refuses JPEGs RFC 2435 cannot express ([ErrUnsupportedUnit]).
//   - ulaw/alaw sample entries are QuickTime-style: ffmpeg reads them, strict ISO readers may
//     not (PL-G711-02).
package media
