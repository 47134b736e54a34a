package tunnel_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/tunnel"
)

// refDecode is the decoding RTSP-HT-05 asks for, written plainly: drop
// whitespace, decode each group of four with encoding/base64. bad reports
// a group it refuses or a partial group at the end.
func refDecode(in []byte) (out []byte, bad bool) {
	var group []byte
	for _, c := range in {
		switch c {
		case '\r', '\n', ' ', '\t':
			continue
		}
		group = append(group, c)
		if len(group) < 4 {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(string(group))
		if err != nil {
			return out, true
		}
		out, group = append(out, b...), group[:0]
	}
	return out, len(group) != 0
}

// checkDecode decodes body with a Decoder reading it whole and one byte at
// a time into reads of 5 bytes and compares both with refDecode.
func checkDecode(t *testing.T, body []byte) {
	t.Helper()
	want, wantBad := refDecode(body)
	for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body))} {
		got, err := readAll(tunnel.NewDecoder(r), 5)
		if !bytes.Equal(got, want) {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		if bad := errors.Is(err, tunnel.ErrBase64); bad != wantBad || err != nil && !bad {
			t.Fatalf("error %v, want bad=%v", err, wantBad)
		}
	}
}

// FuzzDecoder checks the stream decoder against refDecode on any body.
func FuzzDecoder(f *testing.F) {
	for _, tc := range decoderCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

// FuzzRequest reads what a peer sends on a new connection as a tunnel
// request: the HTTP head (bounded by alloctest's parse bound), its
// classification, and for a POST the body after the head, decoded as
// FuzzDecoder does.
func FuzzRequest(f *testing.F) {
	for _, tc := range requestCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range decoderCases {
		f.Add([]byte(qtPost + tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReader(bytes.NewReader(in))
		var h base.HTTPRequest
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = h.Unmarshal(br, base.Limits{}) })
		if err != nil {
			var e *base.Error
			if !errors.As(err, &e) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error without a status: %v", err)
			}
			return
		}
		req, err := tunnel.Classify(&h)
		if err != nil {
			var e *base.Error
			if !errors.As(err, &e) || e.Status < 400 {
				t.Fatalf("refusal without a status: %v", err)
			}
			return
		}
		if !tunnel.ValidCookie(req.Cookie) || req.Kind != tunnel.KindGet && req.Kind != tunnel.KindPost {
			t.Fatalf("classified %v with cookie %q", req.Kind, req.Cookie)
		}
		if req.Kind == tunnel.KindPost {
			rest, _ := io.ReadAll(br)
			checkDecode(t, rest)
		}
	})
}
