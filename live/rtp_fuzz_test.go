package live

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// FuzzParseRTP checks parseRTP against pion/rtp: what pion reads, parseRTP
// reads the same way; it never panics, and a packet it accepts has its
// payload inside the packet.
func FuzzParseRTP(f *testing.F) {
	f.Add([]byte{0x80, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x65, 1})
	f.Add([]byte{0x90, 0xe0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0x41})
	f.Add([]byte{0xa2, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9, 8, 8, 8, 8, 0x41, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseRTP(b)
		var p rtp.Packet
		if err := p.Unmarshal(bytes.Clone(b)); err != nil || p.Version != 2 {
			return // parseRTP may take what pion refuses (it reads less); it refuses other versions
		}
		if !ok {
			t.Fatalf("pion reads %x, parseRTP refuses it", b)
		}
		if h.seq != p.SequenceNumber || h.ts != p.Timestamp || h.ssrc != p.SSRC || h.marker != p.Marker {
			t.Fatalf("header %+v, pion %+v", h, p.Header)
		}
		if !bytes.Equal(h.payload, p.Payload) {
			t.Fatalf("payload %x, pion %x", h.payload, p.Payload)
		}
	})
}
