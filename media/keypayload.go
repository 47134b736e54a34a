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
