package live

import (
	"encoding/binary"
	"testing"
)

// TestAppendBye: the BYE that ends a viewer's stream is a valid compound RTCP
// packet (RFC 3550 §6.1: a report first, every length consistent) of at
// least 12 bytes, which ffmpeg needs to read it at all; the live interop
// test TestLiveRealClients found ffmpeg ignoring the lone 8-byte BYE.
func TestAppendBye(t *testing.T) {
	const ssrc = 0x01020304
	b := appendBye(nil, ssrc)
	if len(b) < 12 {
		t.Fatalf("%d bytes, ffmpeg reads RTCP of 12 or more", len(b))
	}
	var types []byte
	for rest := b; len(rest) > 0; {
		n := 4 * (int(binary.BigEndian.Uint16(rest[2:])) + 1)
		if len(rest) < 8 || rest[0]>>6 != 2 || n > len(rest) {
			t.Fatalf("malformed compound packet % x", b)
		}
		if got := binary.BigEndian.Uint32(rest[4:]); got != ssrc {
			t.Fatalf("packet type %d has SSRC %#x, want %#x", rest[1], got, ssrc)
		}
		types = append(types, rest[1])
		rest = rest[n:]
	}
	if len(types) != 2 || types[0] != 201 || types[1] != 203 || b[8]&0x1F != 1 {
		t.Fatalf("packet types %v (% x), want an empty RR (201) then a BYE (203) of one SSRC", types, b)
	}
}
