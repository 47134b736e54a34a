package media

// KeyPayload reports whether an RTP payload of codec c holds the start of
// a random access point, where a decoder that joins the stream can begin:
// an H.264 IDR slice (single NAL unit, inside a STAP-A, or the first
// fragment of an FU-A), an H.265 IRAP picture (the same in an AP or FU),
// the first packet of an MJPEG frame, and any audio packet. Parameter
// sets alone do not count: they precede the picture in the same access
// unit. It reads the payload only; malformed input reports false.
func KeyPayload(c Codec, payload []byte) bool {
	switch c {
	case CodecH264:
		return h264KeyPayload(payload)
	case CodecH265:
		return h265KeyPayload(payload)
	case CodecMJPEG:
		// RFC 2435 §3.1: a 24-bit fragment offset after the type-specific byte.
		return len(payload) >= 8 && payload[1] == 0 && payload[2] == 0 && payload[3] == 0
	case CodecAAC, CodecOpus, CodecPCMU, CodecPCMA:
		return len(payload) > 0
	}
	return false
}

func h264KeyPayload(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch typ := p[0] & 0x1F; typ {
	case h264NALIDR:
		return true
	case h264STAPA:
		for rest := p[1:]; len(rest) >= 3; {
			n := int(rest[0])<<8 | int(rest[1])
			if n == 0 || n > len(rest)-2 {
				return false
			}
			if rest[2]&0x1F == h264NALIDR {
				return true
			}
			rest = rest[2+n:]
		}
		return false
	case h264FUA:
		return len(p) >= 2 && p[1]&0x80 != 0 && p[1]&0x1F == h264NALIDR
	}
	return false
}

func h265KeyPayload(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	switch typ := h265Type(p[0]); typ {
	case h265AP:
		for rest := p[2:]; len(rest) >= 4; {
			n := int(rest[0])<<8 | int(rest[1])
			if n < 2 || n > len(rest)-2 {
				return false
			}
			if h265Key(h265Type(rest[2])) {
				return true
			}
			rest = rest[2+n:]
		}
		return false
	case h265FU:
		return len(p) >= 3 && p[2]&0x80 != 0 && h265Key(p[2]&0x3F)
	default:
		return h265Key(typ)
	}
}

// PrefixPayload reports whether an RTP payload of codec c holds only NAL
// units that may precede a picture in its access unit: H.264 SEI, SPS, PPS
// and access unit delimiters (single, or all of a STAP-A), H.265 VPS, SPS,
// PPS, delimiters and prefix SEI (single, or all of an AP). Cameras send
// parameter sets before a keyframe sometimes with a marker bit or a
// timestamp of their own; a relay keeps them with the keyframe.
func PrefixPayload(c Codec, payload []byte) bool {
	switch c {
	case CodecH264:
		if len(payload) == 0 {
			return false
		}
		if payload[0]&0x1F == h264STAPA {
			return onlyUnits(payload[1:], h264Prefix)
		}
		return h264Prefix(payload[0])
	case CodecH265:
		if len(payload) < 2 {
			return false
		}
		if h265Type(payload[0]) == h265AP {
			return onlyUnits(payload[2:], h265Prefix)
		}
		return h265Prefix(payload[0])
	}
	return false
}

func h264Prefix(nalHeader byte) bool {
	switch nalHeader & 0x1F {
	case 6, h264NALSPS, h264NALPPS, h264NALAUD: // 6: SEI
		return true
	}
	return false
}

func h265Prefix(nalHeader byte) bool {
	switch h265Type(nalHeader) {
	case h265NALVPS, h265NALSPS, h265NALPPS, h265NALAUD, 39: // 39: prefix SEI
		return true
	}
	return false
}

// onlyUnits reports whether units (16-bit sizes, each followed by a NAL
// unit, as in a STAP-A or an AP) holds at least one unit, each whole and
// accepted by ok.
func onlyUnits(units []byte, ok func(nalHeader byte) bool) bool {
	n := 0
	for len(units) > 0 {
		if len(units) < 3 {
			return false
		}
		size := int(units[0])<<8 | int(units[1])
		if size == 0 || size > len(units)-2 || !ok(units[2]) {
			return false
		}
		units, n = units[2+size:], n+1
	}
	return n > 0
}
