package media

import "encoding/binary"

// packetizeAAC sends one AAC AU as RFC 3640 mpeg4-generic (PL-AAC-02): one AU per packet,
//
//	| AU-headers-length (16, in bits) | AU-size (SizeLength) | AU-Index = 0 (IndexLength) | pad | AU |
//
// with the marker set (§3.1: the packet ends an AU). An AU larger than a packet is
// fragmented over packets with the same timestamp, each with one AU header whose AU-size is
// the whole AU (§3.2.1.1), the marker on the last only (§3.1, §3.2.3, PL-AAC-04).
func (p *Packetizer) packetizeAAC(ts uint32, au []byte, emit func([]byte)) error {
	if uint64(len(au)) >= 1<<p.aacSizeLen {
		return ErrUnsupportedUnit
	}
	hdrBytes := (p.aacHeaderLen + 7) / 8
	// The AU header, left-aligned: AU-size in the top SizeLength bits, then AU-Index 0.
	hdr := uint64(len(au)) << (64 - p.aacSizeLen)
	pl := p.payload()
	for len(au) > 0 {
		binary.BigEndian.PutUint16(pl, uint16(p.aacHeaderLen))
		for i := range hdrBytes {
			pl[2+i] = byte(hdr >> (56 - 8*i))
		}
		n := 2 + hdrBytes
		c := copy(pl[n:], au)
		au = au[c:]
		p.send(ts, n+c, len(au) == 0, emit)
	}
	return nil
}

// packetizeOpus sends one Opus packet as the whole payload of one RTP packet (RFC 7587 §4.2,
// PL-OPUS-02); Opus is never fragmented. The marker is clear: the packetizer does not know
// talk spurts (RFC 3551 §4.1).
func (p *Packetizer) packetizeOpus(ts uint32, unit []byte, emit func([]byte)) error {
	if _, ok := opusDuration(unit); !ok {
		return ErrMalformedUnit
	}
	if len(unit) > len(p.payload()) {
		return ErrUnsupportedUnit
	}
	p.sendWhole(ts, unit, false, emit)
	return nil
}

// packetizeG711 sends G.711 bytes (RFC 3551 §4.5.14, PL-G711-01), one byte per sample and
// channel, in packets of at most MaxPayload bytes rounded down to whole samples; each
// packet's timestamp advances by the samples before it. The marker is clear.
func (p *Packetizer) packetizeG711(ts uint32, unit []byte, emit func([]byte)) error {
	ch := max(int(p.track.Channels), 1)
	if len(unit)%ch != 0 {
		return ErrMalformedUnit
	}
	chunk := len(p.payload()) / ch * ch
	for len(unit) > 0 {
		n := min(chunk, len(unit))
		p.sendWhole(ts, unit[:n], false, emit)
		ts += uint32(n / ch)
		unit = unit[n:]
	}
	return nil
}
