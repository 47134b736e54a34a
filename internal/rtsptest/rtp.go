package rtsptest

// RTP returns a minimal RTP packet: version 2, payload type 96, sequence number seq,
// timestamp ts, SSRC 0xdeadbeef and four payload bytes (an H.264 IDR NAL header and three
// bytes).
func RTP(seq uint16, ts uint32) []byte {
	return []byte{0x80, 96, byte(seq >> 8), byte(seq), byte(ts >> 24), byte(ts >> 16), byte(ts >> 8), byte(ts),
		0xde, 0xad, 0xbe, 0xef, 0x65, 1, 2, 3}
}
