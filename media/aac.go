package media

import (
	"fmt"

	"github.com/pion/rtp"
)

// AAC framing constants.
const (
	aacFrameLen      = 1024 // samples per AU (ISO 14496-3)
	aacShortFrameLen = 960  // with frameLengthFlag
	maxAUHeaderBits  = 32   // bound for SizeLength, IndexLength and IndexDeltaLength
)

// aacFragState tells what the AU bytes kept in buf are.
type aacFragState uint8

const (
	aacFragNone aacFragState = iota
	// aacFragRFC is an RFC 3640 fragment: the AU-size gave the whole AU (fragTotal).
	aacFragRFC
	// aacFragOne is one AU that filled a packet without the marker: either a complete AU
	// from a sender that never sets M, or gortsplib's first fragment (PL-AAC-04).
	aacFragOne
	// aacFragSized is a gortsplib-style fragmented AU: each AU-size gives its fragment.
	aacFragSized
)

// aacDepacketizer splits RFC 3640 mpeg4-generic payloads (AAC-hbr/lbr) into AUs,
// PL-AAC-01..05:
//
//	| AU-headers-length (16, in bits) | AU-header ... | pad to byte | AU data ... |
//	AU-header = AU-size (SizeLength) | AU-Index or AU-Index-delta (IndexLength, IndexDeltaLength)
type aacDepacketizer struct {
	emit                        func(Unit)
	sizeLen, indexLen, deltaLen int
	maxAUs                      int
	duration                    uint32 // ticks per AU
	buf                         unitBuffer
	frag                        aacFragState
	fragPTS                     uint32
	fragTotal                   int
}

func newAACDepacketizer(t *Track, lim Limits, emit func(Unit)) (*aacDepacketizer, error) {
	if t.SizeLength < 1 || t.SizeLength > maxAUHeaderBits ||
		t.IndexLength < 0 || t.IndexLength > maxAUHeaderBits ||
		t.IndexDeltaLength < 0 || t.IndexDeltaLength > maxAUHeaderBits {
		return nil, fmt.Errorf("new aac depacketizer: sizelength %d indexlength %d indexdeltalength %d: %w",
			t.SizeLength, t.IndexLength, t.IndexDeltaLength, ErrUnsupportedCodec)
	}
	return &aacDepacketizer{
		emit:     emit,
		sizeLen:  t.SizeLength,
		indexLen: t.IndexLength,
		deltaLen: t.IndexDeltaLength,
		maxAUs:   lim.MaxNALUs,
		duration: aacDuration(t.AudioConfig, t.ClockRate),
		buf:      unitBuffer{max: lim.MaxUnitBytes},
	}, nil
}

// Reset implements Depacketizer.
func (d *aacDepacketizer) Reset() { d.clearFrag() }

func (d *aacDepacketizer) clearFrag() {
	d.buf.b = d.buf.b[:0]
	d.frag, d.fragTotal = aacFragNone, 0
}

// Push implements Depacketizer.
func (d *aacDepacketizer) Push(pkt *rtp.Packet) error {
	if len(pkt.Payload) == 0 {
		return nil // PL-GEN-05
	}
	headers, n, data, err := d.split(pkt.Payload)
	if err != nil {
		return err
	}
	var lost error
	if d.frag != aacFragNone && (pkt.Timestamp != d.fragPTS || n != 1) {
		lost = d.closeStale()
	}
	if d.frag != aacFragNone {
		err = d.continueFrag(headers, data, pkt.Marker)
	} else {
		err = d.fresh(headers, n, data, pkt)
	}
	if err != nil {
		return err
	}
	return lost
}

// split returns the AU-header section as a bit reader, the number of AU headers and the
// AU data section.
func (d *aacDepacketizer) split(p []byte) (bitReader, int, []byte, error) {
	if len(p) < 2 {
		return bitReader{}, 0, nil, ErrMalformedPacket
	}
	hdrBits := int(p[0])<<8 | int(p[1])
	hdrBytes := (hdrBits + 7) / 8
	first, next := d.sizeLen+d.indexLen, d.sizeLen+d.deltaLen
	if hdrBits < first || (hdrBits-first)%next != 0 || len(p)-2 < hdrBytes {
		return bitReader{}, 0, nil, ErrMalformedPacket
	}
	n := 1 + (hdrBits-first)/next
	if n > d.maxAUs {
		return bitReader{}, 0, nil, ErrTooManyNALUs
	}
	return bitReader{b: p[2 : 2+hdrBytes]}, n, p[2+hdrBytes:], nil
}

// header reads AU header i: its AU-size and AU-Index (first) or AU-Index-delta.
func (d *aacDepacketizer) header(r *bitReader, i int) (size int, interleaved bool) {
	size = int(r.read(d.sizeLen))
	idxLen := d.deltaLen
	if i == 0 {
		idxLen = d.indexLen
	}
	return size, r.read(idxLen) != 0
}

// fresh handles a packet that does not continue a fragment.
func (d *aacDepacketizer) fresh(r bitReader, n int, data []byte, pkt *rtp.Packet) error {
	if n > 1 {
		return d.several(r, n, data, pkt.Timestamp)
	}
	size, interleaved := d.header(&r, 0)
	switch {
	case interleaved:
		return ErrUnsupportedPacket
	case size == 0:
		return ErrMalformedPacket
	case size > d.buf.max:
		return ErrUnitTooLarge
	case size > len(data) && pkt.Marker:
		return ErrFragmentLost // the last fragment of an AU whose start is missing
	case size > len(data):
		return d.startFrag(aacFragRFC, size, data, pkt.Timestamp)
	case !pkt.Marker:
		return d.startFrag(aacFragOne, 0, data[:size], pkt.Timestamp)
	}
	d.emitAU(pkt.Timestamp, data[:size])
	return nil
}

// several emits the complete AUs of a packet with more than one AU header; AU i has
// timestamp ts + i*duration (PL-AAC-02). All headers are checked before anything is emitted.
func (d *aacDepacketizer) several(r bitReader, n int, data []byte, ts uint32) error {
	check, total := r, 0
	for i := range n {
		size, interleaved := d.header(&check, i)
		if interleaved {
			return ErrUnsupportedPacket
		}
		if size == 0 {
			return ErrMalformedPacket
		}
		total += size
	}
	if total > len(data) {
		return ErrMalformedPacket
	}
	for i := range n {
		size, _ := d.header(&r, i)
		d.emitAU(ts+uint32(i)*d.duration, data[:size])
		data = data[size:]
	}
	return nil
}

func (d *aacDepacketizer) startFrag(state aacFragState, total int, data []byte, ts uint32) error {
	d.clearFrag()
	if !d.buf.append(data...) {
		return ErrUnitTooLarge
	}
	d.frag, d.fragTotal, d.fragPTS = state, total, ts
	return nil
}

// continueFrag appends the next fragment (same timestamp, one AU header). Its AU-size is
// the whole AU (RFC 3640) or the fragment (gortsplib); both are accepted (PL-AAC-04).
func (d *aacDepacketizer) continueFrag(r bitReader, data []byte, marker bool) error {
	size, interleaved := d.header(&r, 0)
	if interleaved || size == 0 {
		d.clearFrag()
		return ErrMalformedPacket
	}
	if d.frag == aacFragRFC {
		if size != d.fragTotal || len(d.buf.b)+len(data) > size {
			d.clearFrag()
			return ErrFragmentLost
		}
	} else {
		if size > len(data) {
			d.clearFrag()
			return ErrMalformedPacket
		}
		data = data[:size]
		d.frag = aacFragSized
	}
	if !d.buf.append(data...) {
		d.clearFrag()
		return ErrUnitTooLarge
	}
	if !marker {
		return nil
	}
	defer d.clearFrag()
	if d.frag == aacFragRFC && len(d.buf.b) != d.fragTotal {
		return ErrFragmentLost
	}
	d.emitAU(d.fragPTS, d.buf.b)
	return nil
}

// closeStale ends a fragment that the current packet does not continue: a lone AU without
// marker was complete after all; anything else lost its end.
func (d *aacDepacketizer) closeStale() error {
	defer d.clearFrag()
	if d.frag == aacFragOne {
		d.emitAU(d.fragPTS, d.buf.b)
		return nil
	}
	return ErrFragmentLost
}

// emitAU emits one AU, first stripping an ADTS header that frames exactly this AU (PL-AAC-05).
func (d *aacDepacketizer) emitAU(pts uint32, au []byte) {
	au = stripADTS(au)
	if len(au) == 0 {
		return
	}
	d.emit(Unit{PTS: pts, Data: au, Key: true, Duration: d.duration})
}

// stripADTS removes a 7-byte (or 9-byte, with CRC) ADTS header whose sync word is 0xFFF and
// whose frame length equals len(au).
func stripADTS(au []byte) []byte {
	if len(au) < 7 || au[0] != 0xFF || au[1]&0xF6 != 0xF0 {
		return au
	}
	frameLen := int(au[3]&0x03)<<11 | int(au[4])<<3 | int(au[5])>>5
	if frameLen != len(au) {
		return au
	}
	hdr := 9
	if au[1]&0x01 != 0 { // protection_absent
		hdr = 7
	}
	if len(au) < hdr {
		return au
	}
	return au[hdr:]
}

// aacSampleRates is the sampling-frequency-index table of ISO 14496-3 §1.6.3.4.
var aacSampleRates = [...]uint32{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
	16000, 12000, 11025, 8000, 7350}

// aacDuration returns the ticks per AU at clockRate for an AudioSpecificConfig: 1024 (960
// with frameLengthFlag) samples at the core sampling rate, scaled to the clock rate (so that
// HE-AAC clocked at the SBR rate gets 2048). It falls back to 1024.
func aacDuration(asc []byte, clockRate uint32) uint32 {
	r := bitReader{b: asc}
	objType := readAOT(&r)
	rate := readAACRate(&r)
	_ = r.read(4)                      // channel configuration
	if objType == 5 || objType == 29 { // explicit SBR/PS: extension rate, then the core type
		_ = readAACRate(&r)
		objType = readAOT(&r)
	}
	frameLen := uint32(aacFrameLen)
	switch objType {
	case 1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23:
		if r.read(1) == 1 {
			frameLen = aacShortFrameLen
		}
	}
	if r.err || rate == 0 || clockRate == 0 {
		return aacFrameLen
	}
	return uint32(uint64(frameLen) * uint64(clockRate) / uint64(rate))
}

func readAOT(r *bitReader) uint32 {
	t := r.read(5)
	if t == 31 {
		t = 32 + r.read(6)
	}
	return t
}

func readAACRate(r *bitReader) uint32 {
	i := r.read(4)
	if i == 15 {
		return r.read(24)
	}
	if int(i) < len(aacSampleRates) {
		return aacSampleRates[i]
	}
	return 0
}

// bitReader reads big-endian bit fields with a sticky error: reads past the end return 0
// and set err.
type bitReader struct {
	b   []byte
	pos int // in bits
	err bool
}

// read returns the next n (<= 32) bits.
func (r *bitReader) read(n int) uint32 {
	var v uint32
	for range n {
		if r.pos>>3 >= len(r.b) {
			r.err = true
			return 0
		}
		bit := r.b[r.pos>>3] >> (7 - r.pos&7) & 1
		v = v<<1 | uint32(bit)
		r.pos++
	}
	return v
}
