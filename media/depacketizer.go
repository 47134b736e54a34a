package media

import (
	"fmt"

	"github.com/pion/rtp"
)

// Default depacketizer limits (PL-GEN-01).
const (
	// DefaultMaxUnitBytes is the default Limits.MaxUnitBytes: 8 MiB.
	DefaultMaxUnitBytes = 8 << 20
	// DefaultMaxNALUs is the default Limits.MaxNALUs.
	DefaultMaxNALUs = 1024
)

// Unit is one access unit (video frame) or audio frame produced by a [Depacketizer].
type Unit struct {
	// PTS is the RTP timestamp of the unit: its presentation time in ClockRate ticks.
	PTS uint32
	// Data holds the sample bytes as stored in MP4: H.264/H.265 = 4-byte length-prefixed NAL
	// units (AUD, filler and parameter sets stripped: they live in the Track), AAC = raw AU,
	// Opus = raw packet, G.711 = raw bytes, MJPEG = a complete JPEG (SOI..EOI).
	// Data is valid only during the emit call; keepers copy it.
	Data []byte
	// Key reports a sync sample: an AU with an IDR (H.264) or IRAP (H.265) picture, every
	// JPEG, every audio frame.
	Key bool
	// ParamsChanged reports that the Track's parameter sets or size were set or changed
	// since the previous unit (the recorder starts a new segment and init segment).
	ParamsChanged bool
	// Duration is the unit's duration in ClockRate ticks when the payload defines it
	// (AAC 1024 or 960 per AU, G.711 one tick per sample, Opus from the TOC byte); else 0.
	Duration uint32
}

// Limits bounds what a Depacketizer buffers (PL-GEN-01, SEC-13). Zero fields take defaults.
type Limits struct {
	// MaxUnitBytes bounds one unit's Data, in bytes. Defaults to DefaultMaxUnitBytes (8 MiB).
	MaxUnitBytes int
	// MaxNALUs bounds the NAL units of one H.264/H.265 access unit and the AU headers of one
	// AAC packet. Defaults to DefaultMaxNALUs (1024).
	MaxNALUs int
	// MaxParamSetBytes bounds one in-band H.264/H.265 parameter set (VPS, SPS or PPS) in
	// bytes; longer ones are ignored (issue 9). Defaults to DefaultMaxParamSetBytes (2048).
	MaxParamSetBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MaxUnitBytes <= 0 {
		l.MaxUnitBytes = DefaultMaxUnitBytes
	}
	if l.MaxNALUs <= 0 {
		l.MaxNALUs = DefaultMaxNALUs
	}
	if l.MaxParamSetBytes <= 0 {
		l.MaxParamSetBytes = DefaultMaxParamSetBytes
	}
	return l
}

// Depacketizer turns the RTP packets of one track into units. It is not safe for
// concurrent use; it does no I/O and starts no goroutines.
type Depacketizer interface {
	// Push consumes one RTP packet (already unmarshalled with pion/rtp; its payload may alias
	// the caller's buffer) and calls the emit func given to NewDepacketizer for every
	// completed unit, synchronously. A returned error means the packet (or the partial unit)
	// was dropped; it is one of the package's preallocated sentinel errors (ErrMalformedPacket,
	// ErrUnsupportedPacket, ErrFragmentLost, ErrUnitTooLarge, ErrTooManyNALUs) for the caller
	// to count. Push neither checks sequence numbers nor payload types: on a sequence gap or
	// SSRC change the caller calls Reset (RTP-04, RTP-07).
	Push(pkt *rtp.Packet) error
	// Reset discards any partially assembled unit (after packet loss or an SSRC change).
	Reset()
}

// NewDepacketizer returns the depacketizer for t.Codec. emit is called from Push for every
// completed unit; the Unit's Data is valid only during the call. The depacketizer may update
// t's parameter sets and size (see [Track]). It returns an error wrapping ErrUnsupportedCodec
// for CodecUnknown and for H.265 with DONL fields.
func NewDepacketizer(t *Track, lim Limits, emit func(Unit)) (Depacketizer, error) {
	if t == nil || emit == nil {
		return nil, fmt.Errorf("new depacketizer: nil track or emit: %w", ErrUnsupportedCodec)
	}
	lim = lim.withDefaults()
	switch t.Codec {
	case CodecH264:
		return newH264Depacketizer(t, lim, emit), nil
	case CodecH265:
		if t.donl {
			return nil, fmt.Errorf("new depacketizer: h265 sprop-max-don-diff > 0: %w", ErrUnsupportedCodec)
		}
		return newH265Depacketizer(t, lim, emit), nil
	case CodecAAC:
		return newAACDepacketizer(t, lim, emit)
	case CodecOpus:
		return &opusDepacketizer{maxUnit: lim.MaxUnitBytes, emit: emit}, nil
	case CodecPCMU, CodecPCMA:
		return newG711Depacketizer(t, lim, emit), nil
	case CodecMJPEG:
		return newMJPEGDepacketizer(t, lim, emit), nil
	}
	return nil, fmt.Errorf("new depacketizer: codec %v: %w", t.Codec, ErrUnsupportedCodec)
}

// unitBuffer is the one growing buffer a depacketizer assembles units in. It never grows
// beyond max, so an oversized unit is refused before it is allocated (SEC-13).
type unitBuffer struct {
	b   []byte
	max int
}

// minBufferCap is the first capacity of a unitBuffer, so that small units do not regrow.
const minBufferCap = 4096

// grow makes room for n more bytes. It reports false, leaving the buffer alone, when the
// buffer would exceed max.
func (u *unitBuffer) grow(n int) bool {
	need := len(u.b) + n
	if n < 0 || need > u.max {
		return false
	}
	if need > cap(u.b) {
		c := min(max(2*cap(u.b), need, minBufferCap), u.max)
		nb := make([]byte, len(u.b), c)
		copy(nb, u.b)
		u.b = nb
	}
	return true
}

// append appends p, reporting false (and appending nothing) when that would exceed max.
func (u *unitBuffer) append(p ...byte) bool {
	if !u.grow(len(p)) {
		return false
	}
	u.b = append(u.b, p...)
	return true
}
