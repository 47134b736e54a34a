package media

import "encoding/binary"

// Payload header lengths of fragmentation units: FU indicator + FU header (RFC 6184 §5.8),
// payload header + FU header (RFC 7798 §4.4.3).
const (
	h264FUHeaderLen = 2
	h265FUHeaderLen = 3
)

// packetizeH264 sends an H.264 access unit (RFC 6184 packetization mode 1, PL-H264-10):
// parameter sets first for a key unit, then each NAL unit as a single NAL unit packet
// (§5.6) or, when larger than MaxPayload, as FU-A fragments (§5.8); the marker is set on the
// last packet of the unit (§5.1).
func (p *Packetizer) packetizeH264(ts uint32, unit []byte, key bool, emit func([]byte)) error {
	if !checkAVCC(unit, h264Carriable) {
		return ErrMalformedUnit
	}
	if key && !p.omitParams {
		p.sendH264Params(ts, emit)
	}
	for len(unit) > 0 {
		nal, rest, _ := nextAVCC(unit)
		p.sendH264NAL(ts, nal, len(rest) == 0, emit)
		unit = rest
	}
	return nil
}

// h264Carriable reports whether nal (non-empty) has a NAL unit type that RTP carries as is:
// 1..23. Type 0 and the types 24..31 that RFC 6184 §5.2 uses for STAP, MTAP and FU would be
// misread by receivers.
func h264Carriable(nal []byte) bool {
	typ := nal[0] & 0x1F
	return typ >= 1 && typ < h264STAPA
}

// sendH264NAL sends one NAL unit as a single NAL unit packet or as FU-A fragments:
//
//	FU indicator |F|NRI| 28 |   FU header |S|E|R| Type |   fragment of nal[1:]
func (p *Packetizer) sendH264NAL(ts uint32, nal []byte, marker bool, emit func([]byte)) {
	if len(nal) <= len(p.payload()) {
		p.sendWhole(ts, nal, marker, emit)
		return
	}
	pre := [h264FUHeaderLen]byte{nal[0]&0xE0 | h264FUA, nal[0] & 0x1F}
	p.fragment(ts, pre[:], nal[1:], marker, emit)
}

// sendH264Params sends the track's SPS and PPS with the timestamp of a key unit
// (PL-H264-10): in one STAP-A (RFC 6184 §5.7.1) when they fit, whose F bit is the OR and
// NRI the maximum of the aggregated units', else as separate NAL units.
func (p *Packetizer) sendH264Params(ts uint32, emit func([]byte)) {
	ps := paramSets{p.track.SPS, p.track.PPS}
	if ps.count() > 1 && ps.aggregateLen(1) <= len(p.payload()) {
		var f, nri byte
		for _, s := range ps {
			if len(s) > 0 {
				f |= s[0] & 0x80
				nri = max(nri, s[0]&0x60)
			}
		}
		p.payload()[0] = f | nri | h264STAPA
		p.send(ts, p.writeAggregate(1, &ps), false, emit)
		return
	}
	for _, s := range ps {
		if len(s) > 0 {
			p.sendH264NAL(ts, s, false, emit)
		}
	}
}

// paramSets are the parameter sets sent before a key unit, in decoding order (VPS, SPS,
// PPS); empty entries are skipped.
type paramSets [3][]byte

// count returns the number of non-empty parameter sets.
func (ps *paramSets) count() int {
	n := 0
	for _, s := range ps {
		if len(s) > 0 {
			n++
		}
	}
	return n
}

// aggregateLen returns the payload length of an aggregation packet (STAP-A, AP) with a
// hdrLen-byte payload header and a 16-bit size before each parameter set.
func (ps *paramSets) aggregateLen(hdrLen int) int {
	n := hdrLen
	for _, s := range ps {
		if len(s) > 0 {
			n += 2 + len(s)
		}
	}
	return n
}

// writeAggregate writes the size-prefixed parameter sets after the hdrLen-byte payload
// header, which the caller writes, and returns the payload length. The caller has checked
// aggregateLen against MaxPayload.
func (p *Packetizer) writeAggregate(hdrLen int, ps *paramSets) int {
	pl, n := p.payload(), hdrLen
	for _, s := range ps {
		if len(s) > 0 {
			binary.BigEndian.PutUint16(pl[n:], uint16(len(s)))
			n += 2 + copy(pl[n+2:], s)
		}
	}
	return n
}

// fragment sends data in packets of prefix then a chunk of data (FU-A, RFC 6184 §5.8; FU,
// RFC 7798 §4.4.3). The last byte of prefix is the FU header: its S bit (0x80) is set in
// the first packet, its E bit (0x40) in the last, which also carries marker.
func (p *Packetizer) fragment(ts uint32, prefix, data []byte, marker bool, emit func([]byte)) {
	pl := p.payload()
	h := len(prefix) - 1
	fu := prefix[h]
	for first := true; len(data) > 0; first = false {
		n := copy(pl, prefix)
		pl[h] = fu
		if first {
			pl[h] |= 0x80
		}
		c := copy(pl[n:], data)
		data = data[c:]
		if len(data) == 0 {
			pl[h] |= 0x40
		}
		p.send(ts, n+c, marker && len(data) == 0, emit)
	}
}

// checkAVCC reports whether unit is a sequence of 4-byte length-prefixed, non-empty NAL
// units that all satisfy carriable.
func checkAVCC(unit []byte, carriable func(nal []byte) bool) bool {
	for len(unit) > 0 {
		nal, rest, ok := nextAVCC(unit)
		if !ok || !carriable(nal) {
			return false
		}
		unit = rest
	}
	return true
}

// nextAVCC splits the first length-prefixed NAL unit off b. ok is false when the prefix is
// truncated, zero or overruns b.
func nextAVCC(b []byte) (nal, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := uint64(binary.BigEndian.Uint32(b))
	if n == 0 || n > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
