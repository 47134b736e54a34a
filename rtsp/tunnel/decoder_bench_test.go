package tunnel_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/camvault/camvault/rtsp/tunnel"
)

// BenchmarkDecoder decodes a POST body as a player sends it while it
// plays: interleaved RTCP receiver reports and keepalives, each encoded on
// its own; reads of 4 KiB as the connection's reader makes them. reuse
// resets one Decoder per body, new makes one.
func BenchmarkDecoder(b *testing.B) {
	rr := "$\x01\x00\x20\x81\xc9\x00\x07" + strings.Repeat("\x4f", 28)
	keepalive := "GET_PARAMETER rtsp://127.0.0.1:8554/archive/cam/ RTSP/1.0\r\nCSeq: 9\r\nSession: 0123456789abcdef0123456789abcdef\r\n\r\n"
	var body bytes.Buffer
	for body.Len() < 64<<10 {
		for _, m := range []string{rr, rr, rr, keepalive} {
			body.WriteString(base64.StdEncoding.EncodeToString([]byte(m)))
		}
	}
	in := body.Bytes()
	buf := make([]byte, 4<<10)
	drain := func(d *tunnel.Decoder) {
		for {
			if _, err := d.Read(buf); err != nil {
				return
			}
		}
	}
	b.Run("reuse", func(b *testing.B) {
		r := bytes.NewReader(in)
		d := tunnel.NewDecoder(r)
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(in)
			d.Reset(r)
			drain(d)
		}
	})
	b.Run("new", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			drain(tunnel.NewDecoder(bytes.NewReader(in)))
		}
	})
}
