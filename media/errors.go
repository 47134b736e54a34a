package media

import "errors"

// Errors returned by [TracksFromSDP], [TracksFromInit], [NewDepacketizer], [NewPacketizer] and
// [InitSegment].
var (
	// ErrNoSupportedMedia is wrapped by TracksFromSDP when no medium of the SDP has a codec
	// the package supports, and by TracksFromInit when no trak of the init segment has one.
	ErrNoSupportedMedia = errors.New("no supported media")
	// ErrMalformedSDP is wrapped by TracksFromSDP when the body is not an SDP description: its
	// first line is not v=, or it has no m= line.
	ErrMalformedSDP = errors.New("malformed sdp")
	// ErrSDPLimit is wrapped by TracksFromSDP when the description exceeds an [SDPLimits] bound
	// (SEC-12).
	ErrSDPLimit = errors.New("sdp limit exceeded")
	// ErrUnsupportedCodec is returned by NewDepacketizer, NewPacketizer and InitSegment for a
	// track whose codec or codec options the package cannot handle (for example H.265 with
	// DONL fields).
	ErrUnsupportedCodec = errors.New("unsupported codec")
	// ErrTrackNotReady is wrapped by InitSegment when a track lacks what its sample entry needs
	// (see [Track.Ready]).
	ErrTrackNotReady = errors.New("track not ready")
)

// errHvcCArrays is wrapped by TracksFromInit when the NAL unit arrays of an hvcC box run
// past its end (see checkHvcCRecords).
var errHvcCArrays = errors.New("hvcC nal unit arrays overrun the box")

// Sentinel errors returned by [Depacketizer.Push]. Each means the packet, or the unit being
// assembled, was dropped. They are preallocated so that Push never allocates; callers count
// them (for example by err.Error() as a metric label) and may branch on them with errors.Is.
var (
	// ErrMalformedPacket means the payload is too short or its internal lengths are inconsistent
	// (STAP/AP sizes, AU headers, JPEG headers) (SEC-13).
	ErrMalformedPacket = errors.New("malformed rtp payload")
	// ErrUnsupportedPacket means a valid but unsupported payload: H.264 packetization-mode 2
	// types (STAP-B, MTAP, FU-B), H.265 PACI, interleaved AAC, JPEG types other than 0/1/64/65,
	// JPEG sizes above 2040 (PL-H264-02, PL-H265-04, PL-AAC-03, PL-JPEG-04).
	ErrUnsupportedPacket = errors.New("unsupported rtp payload")
	// ErrFragmentLost means a fragmented NAL unit, AU or JPEG frame could not be completed:
	// a continuation without its start, a new start before the end, a timestamp change
	// in the middle, or a gap in JPEG fragment offsets (PL-H264-05, PL-AAC-04, PL-JPEG-03).
	ErrFragmentLost = errors.New("fragment lost")
	// ErrUnitTooLarge means the unit grew beyond Limits.MaxUnitBytes and was dropped before
	// any buffer grew past the limit (PL-GEN-01).
	ErrUnitTooLarge = errors.New("unit too large")
	// ErrTooManyNALUs means an access unit (or an AAC packet) holds more than Limits.MaxNALUs
	// NAL units (AU headers) (PL-GEN-01).
	ErrTooManyNALUs = errors.New("too many nal units")
)

// Sentinel errors returned by [Packetizer.Packetize]. When Packetize returns one, it has
// emitted no packet of the unit and the sequence number is unchanged; callers count them
// and skip the unit.
var (
	// ErrMalformedUnit means the unit is not in its codec's sample format: empty, H.264/H.265
	// data that is not 4-byte length-prefixed NAL units (or holds a NAL unit type reserved
	// for RTP, such as STAP-A or FU), a JPEG whose marker segments are truncated or missing,
	// an Opus packet with an invalid TOC byte, or G.711 bytes not a multiple of the channels.
	ErrMalformedUnit = errors.New("malformed unit")
	// ErrUnsupportedUnit means a well-formed unit that the payload format cannot carry: a JPEG
	// that RFC 2435 types 0/1/64/65 cannot express (progressive or other non-baseline, larger
	// than 2040 pixels, not three components sampled 4:2:2 or 4:2:0, non-standard Huffman
	// tables, quantisation tables that do not fit the first packet), an AAC AU whose size
	// does not fit the AU-size field, or an Opus packet larger than MaxPayload.
	ErrUnsupportedUnit = errors.New("unit not expressible in rtp payload format")
)
