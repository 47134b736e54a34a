package tunnel_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/camvault/camvault/rtsp/tunnel"
)

// options is the request of RTSP.md section 8's transcript.
const options = "OPTIONS rtsp://nvr.example/cam1 RTSP/1.0\r\nCSeq: 1\r\n\r\n"

// enc encodes each message on its own, as ffmpeg, live555 and GStreamer do.
func enc(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(m)))
	}
	return b.String()
}

// std decodes standard base64 (a test constant).
func std(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// wrap puts CRLF every n characters of s, as MIME encoders do.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// decoderCases drive TestDecoder and seed FuzzDecoder and FuzzRequest.
var decoderCases = []struct {
	name, in, want string
	bad            bool // ends with ErrBase64 after want
}{
	{name: "empty"},
	{name: "one message", in: enc(options), want: options},
	{name: "padding between messages", in: enc("A", "BC", "DEF", options), want: "ABCDEF" + options},
	{name: "interleaved frame", in: enc("$\x01\x00\x04\x81\xc9\x00\x01", options), want: "$\x01\x00\x04\x81\xc9\x00\x01" + options},
	{name: "line breaks", in: wrap(enc(options, options), 76), want: options + options},
	{name: "whitespace anywhere", in: " T1B\tUSU9\r\nOUw=\n= ", want: "OPTIONS"},
	{name: "bad byte", in: enc("ABC") + "QU*D", want: "ABC", bad: true},
	{name: "url alphabet", in: "-_-_", bad: true},
	{name: "padding first", in: "=QUJD", bad: true},
	{name: "padding second", in: "Q===", bad: true},
	{name: "padding then data", in: "QQ=A", bad: true},
	{name: "truncated group", in: enc("AB") + "QUI", want: "AB", bad: true},
	{name: "http request", in: "GET / HTTP/1.0\r\n", want: std("GET/HTTP"), bad: true},
}

// readAll reads r to its end with reads of size n.
func readAll(r io.Reader, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for {
		m, err := r.Read(buf)
		out = append(out, buf[:m]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
	}
}

// TestDecoder decodes every case whole, one byte per source read, and into
// reads of 1 and 2 bytes (a group split between calls), and checks the
// decoded bytes and that bad input ends in ErrBase64 (RTSP-HT-05).
func TestDecoder(t *testing.T) {
	t.Parallel()
	for _, tc := range decoderCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, src := range []struct {
				name string
				r    func() io.Reader
			}{
				{"whole", func() io.Reader { return strings.NewReader(tc.in) }},
				{"one byte", func() io.Reader { return iotest.OneByteReader(strings.NewReader(tc.in)) }},
				{"half", func() io.Reader { return iotest.HalfReader(strings.NewReader(tc.in)) }},
			} {
				for _, n := range []int{1, 2, 3, 4096} {
					got, err := readAll(tunnel.NewDecoder(src.r()), n)
					if string(got) != tc.want {
						t.Errorf("%s/%d: decoded %q, want %q", src.name, n, got, tc.want)
					}
					if bad := errors.Is(err, tunnel.ErrBase64); bad != tc.bad || err != nil && !bad {
						t.Errorf("%s/%d: error %v, want bad=%v", src.name, n, err, tc.bad)
					}
				}
			}
		})
	}
}

// TestDecoderSplitAnywhere feeds a stream of several messages in two
// source reads split at every offset.
func TestDecoderSplitAnywhere(t *testing.T) {
	t.Parallel()
	in := wrap(enc(options, "$\x00\x00\x02ab", options), 10)
	for i := range len(in) + 1 {
		r := io.MultiReader(strings.NewReader(in[:i]), strings.NewReader(in[i:]))
		got, err := readAll(tunnel.NewDecoder(r), 7)
		if err != nil || string(got) != options+"$\x00\x00\x02ab"+options {
			t.Fatalf("split at %d: %q, %v", i, got, err)
		}
	}
}

// TestDecoderErrorSticks: after a bad byte every read fails, and the source
// error is returned only after the data before it.
func TestDecoderErrorSticks(t *testing.T) {
	t.Parallel()
	d := tunnel.NewDecoder(strings.NewReader("QUJD!QUJD"))
	buf := make([]byte, 16)
	if n, err := d.Read(buf); n != 3 || err != nil {
		t.Fatalf("first read %d %v", n, err)
	}
	for range 2 {
		if _, err := d.Read(buf); !errors.Is(err, tunnel.ErrBase64) {
			t.Fatalf("read after the bad byte: %v", err)
		}
	}
	boom := errors.New("boom")
	d.Reset(io.MultiReader(strings.NewReader("QUJD"), iotest.ErrReader(boom)))
	if got, err := readAll(d, 16); string(got) != "ABC" || !errors.Is(err, boom) {
		t.Fatalf("after reset: %q %v", got, err)
	}
}

// emptyReader returns nothing and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestDecoderNoProgress(t *testing.T) {
	t.Parallel()
	if _, err := tunnel.NewDecoder(emptyReader{}).Read(make([]byte, 4)); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

// TestDecoderAllocs: decoding allocates nothing after NewDecoder.
func TestDecoderAllocs(t *testing.T) {
	in := []byte(wrap(enc(options, options, options), 76))
	r := bytes.NewReader(in)
	d := tunnel.NewDecoder(r)
	buf := make([]byte, 512)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(in)
		d.Reset(r)
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per body, want 0", allocs)
	}
}
