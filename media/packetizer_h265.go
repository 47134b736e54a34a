package media

// packetizeH265 sends an H.265 access unit (RFC 7798 without DONL): VPS, SPS and PPS first
// for a key (IRAP) unit, then each NAL unit as a single NAL unit packet (§4.4.1) or, when
// larger than MaxPayload, as FU fragments (§4.4.3); the marker is set on the last packet of
// the unit (§4.1).
func (p *Packetizer) packetizeH265(ts uint32, unit []byte, key bool, emit func([]byte)) error {
	if !checkAVCC(unit, h265Carriable) {
		return ErrMalformedUnit
	}
	if key && !p.omitParams {
		p.sendH265Params(ts, emit)
	}
	for len(unit) > 0 {
		nal, rest, _ := nextAVCC(unit)
		p.sendH265NAL(ts, nal, len(rest) == 0, emit)
		unit = rest
	}
	return nil
}

// h265Carriable reports whether nal has a two-byte header and a NAL unit type below 48:
// types 48..63 are the AP, FU and PACI of RFC 7798 §4.4 and would be misread by receivers.
func h265Carriable(nal []byte) bool {
	return len(nal) >= 2 && h265Type(nal[0]) < h265AP
}

// sendH265NAL sends one NAL unit as a single NAL unit packet or as FU fragments:
//
//	payload header |F| 49 | LayerId | TID |   FU header |S|E| FuType(6) |   fragment of nal[2:]
func (p *Packetizer) sendH265NAL(ts uint32, nal []byte, marker bool, emit func([]byte)) {
	if len(nal) <= len(p.payload()) {
		p.sendWhole(ts, nal, marker, emit)
		return
	}
	pre := [h265FUHeaderLen]byte{nal[0]&0x81 | h265FU<<1, nal[1], h265Type(nal[0])}
	p.fragment(ts, pre[:], nal[2:], marker, emit)
}

// sendH265Params sends the track's VPS, SPS and PPS with the timestamp of a key unit: in one
// aggregation packet (RFC 7798 §4.4.2) when they fit, else as separate NAL units. The AP
// payload header's F bit is the OR of the aggregated units' F bits, and its LayerId and TID
// are their lowest (§4.4.2).
func (p *Packetizer) sendH265Params(ts uint32, emit func([]byte)) {
	ps := paramSets{p.track.VPS, p.track.SPS, p.track.PPS}
	for i, s := range ps {
		if len(s) < 2 {
			ps[i] = nil // not a NAL unit: a header alone is two bytes
		}
	}
	if ps.count() > 1 && ps.aggregateLen(2) <= len(p.payload()) {
		f, layer, tid := byte(0), byte(0x3F), byte(7)
		for _, s := range ps {
			if len(s) > 0 {
				f |= s[0] & 0x80
				layer = min(layer, s[0]&1<<5|s[1]>>3)
				tid = min(tid, s[1]&7)
			}
		}
		pl := p.payload()
		pl[0], pl[1] = f|h265AP<<1|layer>>5, layer<<3|tid
		p.send(ts, p.writeAggregate(2, &ps), false, emit)
		return
	}
	for _, s := range ps {
		if len(s) > 0 {
			p.sendH265NAL(ts, s, false, emit)
		}
	}
}
