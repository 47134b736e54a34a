package media

import (
	"encoding/binary"
	"fmt"
)

// Packetizer payload bounds (RTP-11).
const (
	// DefaultMaxPayload is the default PacketizerConfig.MaxPayload: 1400 bytes, which keeps
	// an RTP packet with IP and UDP headers within a 1500-byte MTU (RTP-11).
	DefaultMaxPayload = 1400
	// MaxPacketizerPayload bounds PacketizerConfig.MaxPayload so that a packet fits the
	// 16-bit length of an RTSP interleaved frame (RFC 2326 §10.12): 65535 - 12 header bytes.
	MaxPacketizerPayload = 65535 - rtpHeaderLen
)

// rtpHeaderLen is the fixed RTP header without CSRCs or extension (RFC 3550 §5.1).
const rtpHeaderLen = 12

// PacketizerConfig configures a [Packetizer].
type PacketizerConfig struct {
	// PayloadType is the RTP payload type written in every packet (0..127).
	PayloadType uint8
	// SSRC is the synchronisation source written in every packet (random in production, RTP-10).
	SSRC uint32
	// InitialSeq is the sequence number of the first packet; the caller picks it (random in
	// production, RTP-10).
	InitialSeq uint16
	// MaxPayload is the largest RTP payload in bytes, headers of the payload format included
	// but not the 12-byte RTP header. Defaults to DefaultMaxPayload (1400). Clamping it to a
	// sane range (for example [256, 1460] from a Blocksize header, RTSP-M-20) is the caller's
	// job; NewPacketizer only refuses values above MaxPacketizerPayload or too small for the
	// codec's payload headers plus one data byte (3 for H.264, 4 for H.265, 5 for AAC-hbr,
	// 145 for MJPEG with restart markers, the channel count for G.711).
	MaxPayload int
}

// Packetizer turns the units of one track into RTP packets: the inverse of the track's
// [Depacketizer], for the load generator and archive playback (RTP-10, RTP-11).
//
// Units are in the sample format a Depacketizer emits: 4-byte length-prefixed NAL units for
// H.264/H.265, a raw AU for AAC, a raw Opus packet, raw G.711 bytes, a complete JPEG. Every
// packet has version 2, no padding, no extension and no CSRC.
//
// A Packetizer is not safe for concurrent use. It does no I/O and starts no goroutines, and
// Packetize never allocates: every packet is built in one buffer sized by NewPacketizer.
// Packetize reads the track's parameter sets (H.264/H.265) on every key unit; the caller
// must not change them meanwhile (a Track shared with a Depacketizer on another goroutine
// needs a copy). The AAC AU-header layout is read once, by NewPacketizer.
type Packetizer struct {
	track *Track
	pt    uint8
	ssrc  uint32
	seq   uint16
	// buf holds the packet being built: RTP header then up to MaxPayload payload bytes. It
	// is allocated once by NewPacketizer and handed to emit for every packet.
	buf []byte
	// aacSizeLen and aacHeaderLen are the AU-size and whole AU-header lengths in bits
	// (SizeLength, SizeLength + IndexLength).
	aacSizeLen, aacHeaderLen int
	// omitParams leaves the parameter sets out of key units (SetParamsInBand).
	omitParams bool
}

// SetParamsInBand says whether H.264/H.265 key units are preceded by the track's parameter
// sets (the default, PL-H264-10). A sender whose SDP already carries the very same
// parameter sets may turn it off: ffmpeg over UDP gives an access unit made only of
// parameter sets no timestamp, and an accurate seek (-ss) then drops the keyframe after
// it. Turn it back on when the parameter sets change.
func (p *Packetizer) SetParamsInBand(on bool) { p.omitParams = !on }

// NewPacketizer returns the packetizer for t.Codec. It returns an error wrapping
// ErrUnsupportedCodec for CodecUnknown, H.265 with DONL fields and AAC with an AU-header
// layout the depacketizer refuses, and a plain error for an invalid cfg.
func NewPacketizer(t *Track, cfg PacketizerConfig) (*Packetizer, error) {
	if t == nil {
		return nil, fmt.Errorf("new packetizer: nil track: %w", ErrUnsupportedCodec)
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.PayloadType > 127 {
		return nil, fmt.Errorf("new packetizer: payload type %d above 127", cfg.PayloadType)
	}
	minPayload, err := minPacketizerPayload(t)
	if err != nil {
		return nil, fmt.Errorf("new packetizer: codec %v: %w", t.Codec, err)
	}
	if cfg.MaxPayload < minPayload || cfg.MaxPayload > MaxPacketizerPayload {
		return nil, fmt.Errorf("new packetizer: codec %v: max payload %d outside [%d, %d]",
			t.Codec, cfg.MaxPayload, minPayload, MaxPacketizerPayload)
	}
	return &Packetizer{
		track:        t,
		pt:           cfg.PayloadType,
		ssrc:         cfg.SSRC,
		seq:          cfg.InitialSeq,
		buf:          make([]byte, rtpHeaderLen+cfg.MaxPayload),
		aacSizeLen:   t.SizeLength,
		aacHeaderLen: t.SizeLength + t.IndexLength,
	}, nil
}

// minPacketizerPayload returns the smallest MaxPayload that leaves room for the codec's
// payload headers and one byte of data.
func minPacketizerPayload(t *Track) (int, error) {
	switch t.Codec {
	case CodecH264:
		return h264FUHeaderLen + 1, nil
	case CodecH265:
		if t.donl {
			return 0, fmt.Errorf("sprop-max-don-diff > 0: %w", ErrUnsupportedCodec)
		}
		return h265FUHeaderLen + 1, nil
	case CodecAAC:
		if t.SizeLength < 1 || t.SizeLength > maxAUHeaderBits ||
			t.IndexLength < 0 || t.IndexLength > maxAUHeaderBits {
			return 0, fmt.Errorf("sizelength %d indexlength %d: %w", t.SizeLength, t.IndexLength, ErrUnsupportedCodec)
		}
		return 2 + (t.SizeLength+t.IndexLength+7)/8 + 1, nil
	case CodecOpus:
		return 1, nil
	case CodecPCMU, CodecPCMA:
		return max(int(t.Channels), 1), nil
	case CodecMJPEG:
		return jpegMainHeaderLen + jpegRestartHeaderLen + jpegQTableHeaderLen + 2*64 + 1, nil
	}
	return 0, ErrUnsupportedCodec
}

// Packetize sends one unit as RTP packets: it calls emit once per packet, in order, with the
// marshalled packet (RTP header and payload). pkt lives in the Packetizer's reused buffer and
// is valid only during the call; keepers copy it. ts is the unit's RTP timestamp in the
// track clock (RTP-10); key marks a sync sample, before which H.264/H.265 parameter sets
// from the Track are sent (PL-H264-10).
//
// The unit is checked before anything is emitted: on error (ErrMalformedUnit or
// ErrUnsupportedUnit) no packet is sent and Seq is unchanged.
func (p *Packetizer) Packetize(ts uint32, unit []byte, key bool, emit func(pkt []byte)) error {
	if len(unit) == 0 {
		return ErrMalformedUnit
	}
	switch p.track.Codec {
	case CodecH264:
		return p.packetizeH264(ts, unit, key, emit)
	case CodecH265:
		return p.packetizeH265(ts, unit, key, emit)
	case CodecAAC:
		return p.packetizeAAC(ts, unit, emit)
	case CodecOpus:
		return p.packetizeOpus(ts, unit, emit)
	case CodecPCMU, CodecPCMA:
		return p.packetizeG711(ts, unit, emit)
	case CodecMJPEG:
		return p.packetizeMJPEG(ts, unit, emit)
	}
	return ErrUnsupportedUnit // unreachable: NewPacketizer refuses other codecs
}

// Seq returns the sequence number the next packet will carry, for the RTP-Info header of a
// PLAY response (RTSP-RNG).
func (p *Packetizer) Seq() uint16 { return p.seq }

// payload returns the payload area of the packet buffer: MaxPayload bytes.
func (p *Packetizer) payload() []byte { return p.buf[rtpHeaderLen:] }

// send completes the RTP header (RFC 3550 §5.1) of a packet whose n payload bytes are
// already in p.payload(), emits it and advances the sequence number (RTP-10).
//
//	|V=2|P|X|  CC   |M|     PT      |       sequence number         |
//	|                           timestamp                           |
//	|                             SSRC                              |
func (p *Packetizer) send(ts uint32, n int, marker bool, emit func([]byte)) {
	b := p.buf
	b[0] = 2 << 6
	b[1] = p.pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], p.ssrc)
	p.seq++
	emit(b[:rtpHeaderLen+n])
}

// sendWhole sends data as the whole payload of one packet.
func (p *Packetizer) sendWhole(ts uint32, data []byte, marker bool, emit func([]byte)) {
	p.send(ts, copy(p.payload(), data), marker, emit)
}
