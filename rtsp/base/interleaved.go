package base

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// InterleavedMagic is the first byte of an interleaved frame.
const InterleavedMagic = '$'

// InterleavedHeaderSize is the size of the frame header.
const InterleavedHeaderSize = 4

// InterleavedFrame is one RTP or RTCP packet carried on the RTSP connection
// [2326 §10.12]:
//
//	 0               1               2               3
//	+---------------+---------------+---------------+---------------+
//	|   '$' (0x24)  |    channel    |     length (big-endian)       |
//	+---------------+---------------+---------------+---------------+
//	|                 payload (length bytes) ...                    |
//	+---------------------------------------------------------------+
type InterleavedFrame struct {
	// Channel is the interleaved channel, 0-255.
	Channel uint8
	// Payload is one RTP or RTCP packet. After Unmarshal it aliases the
	// caller's buffer.
	Payload []byte
}

// Unmarshal reads one frame from br into buf without allocating: Payload is
// buf[:length]. len(buf) is the largest payload accepted; a longer frame,
// or an empty one, is skipped and ErrFrameTooLarge or ErrMalformed is
// returned with the stream still in sync (RTSP-IL-01). A first byte other
// than '$' returns ErrMalformed without consuming it.
func (f *InterleavedFrame) Unmarshal(br *bufio.Reader, buf []byte) error {
	hdr, err := br.Peek(InterleavedHeaderSize)
	if err != nil {
		return lex.UnexpectedEOF(err, len(hdr))
	}
	if hdr[0] != InterleavedMagic {
		return ErrMalformed
	}
	ch := hdr[1]
	n := int(binary.BigEndian.Uint16(hdr[2:]))
	_, _ = br.Discard(InterleavedHeaderSize) // cannot fail: the bytes are buffered
	if n == 0 || n > len(buf) {
		if _, err := br.Discard(n); err != nil {
			return lex.UnexpectedEOF(err, 1)
		}
		if n == 0 {
			return ErrMalformed
		}
		return ErrFrameTooLarge
	}
	if _, err := io.ReadFull(br, buf[:n]); err != nil {
		return lex.UnexpectedEOF(err, 1)
	}
	f.Channel, f.Payload = ch, buf[:n]
	return nil
}

// MarshalSize returns the number of bytes MarshalTo writes.
func (f *InterleavedFrame) MarshalSize() int { return InterleavedHeaderSize + len(f.Payload) }

// MarshalTo writes the frame into buf and returns the number of bytes
// written. The payload must be 1 to 65535 bytes.
func (f *InterleavedFrame) MarshalTo(buf []byte) (int, error) {
	if len(f.Payload) == 0 || len(f.Payload) > 0xffff {
		return 0, errors.New("marshal interleaved frame: bad payload length")
	}
	if len(buf) < f.MarshalSize() {
		return 0, errShortBuffer
	}
	buf[0] = InterleavedMagic
	buf[1] = f.Channel
	binary.BigEndian.PutUint16(buf[2:], uint16(len(f.Payload)))
	return InterleavedHeaderSize + copy(buf[InterleavedHeaderSize:], f.Payload), nil
}

// Marshal returns the wire form of the frame.
func (f *InterleavedFrame) Marshal() ([]byte, error) {
	buf := make([]byte, f.MarshalSize())
	n, err := f.MarshalTo(buf)
	return buf[:n], err
}

// IsRTCP reports whether a packet is RTCP by its packet type (200-204:
// SR, RR, SDES, BYE, APP). Some senders put RTCP on the RTP channel or
// multiplex both on one port (RTSP-IL-02).
func IsRTCP(pkt []byte) bool {
	return len(pkt) >= 2 && pkt[1] >= 200 && pkt[1] <= 204
}
