package live

import "encoding/binary"

// rtpHeader is what the hub reads of an RTP packet.
type rtpHeader struct {
	seq     uint16
	ts      uint32
	ssrc    uint32
	marker  bool
	payload []byte // within the packet, padding removed
}

// parseRTP reads the fixed header, CSRCs, extension and padding of an RTP
// packet (RTP-01..04). It reports false for anything malformed; the hub
// drops such a packet (the recorder counts it).
func parseRTP(b []byte) (h rtpHeader, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return h, false
	}
	off := 12 + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return h, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		pad := int(b[end-1])
		if pad == 0 || pad > end-off {
			return h, false
		}
		end -= pad
	}
	if off > end {
		return h, false
	}
	h.marker = b[1]&0x80 != 0
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	h.payload = b[off:end]
	return h, true
}

// rtcpSenderReport reports whether an RTCP (compound) packet starts with a
// sender report (RTCP-01), and its SSRC.
func rtcpSenderReport(b []byte) (ssrc uint32, ok bool) {
	if len(b) < 28 || b[0]>>6 != 2 || b[1] != 200 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[4:]), true
}

// appendBye appends a compound RTCP packet that ends ssrc's stream: an
// empty receiver report, which must lead every compound packet (RFC 3550
// §6.1, RTCP-01), then a BYE (RTCP-04). A lone BYE is 8 bytes, and ffmpeg
// drops RTP/RTCP packets shorter than 12 bytes unread: its players then
// played on until the session ended (as playback's bye says).
func appendBye(b []byte, ssrc uint32) []byte {
	b = append(b, 0x80, 201, 0, 1)
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, 0x81, 203, 0, 1)
	return binary.BigEndian.AppendUint32(b, ssrc)
}
