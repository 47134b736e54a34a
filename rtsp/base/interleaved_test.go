package base_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

var interleavedCases = []struct {
	name string
	in   []byte
	want base.InterleavedFrame
}{
	{"RTSP-IL-01 RTP on channel 0", []byte{'$', 0, 0, 4, 0x80, 0x60, 0x6f, 0x1a}, base.InterleavedFrame{Channel: 0, Payload: []byte{0x80, 0x60, 0x6f, 0x1a}}},
	{"RTSP-IL-01 RTCP SR on channel 1", []byte{'$', 1, 0, 2, 0x81, 0xc8}, base.InterleavedFrame{Channel: 1, Payload: []byte{0x81, 0xc8}}},
	{"channel 255", []byte{'$', 255, 0, 1, 7}, base.InterleavedFrame{Channel: 255, Payload: []byte{7}}},
}

func TestInterleavedUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range interleavedCases {
		t.Run(tc.name, func(t *testing.T) {
			var f base.InterleavedFrame
			buf := make([]byte, 16)
			if err := f.Unmarshal(bufio.NewReader(bytes.NewReader(tc.in)), buf); err != nil {
				t.Fatal(err)
			}
			if f.Channel != tc.want.Channel || !bytes.Equal(f.Payload, tc.want.Payload) {
				t.Fatalf("got %+v", f)
			}
			b, err := tc.want.Marshal()
			if err != nil || !bytes.Equal(b, tc.in) {
				t.Fatalf("Marshal %x %v", b, err)
			}
		})
	}
}

// TestInterleavedSkip covers RTSP-IL-01: empty and oversized frames are
// skipped and the stream stays in sync.
func TestInterleavedSkip(t *testing.T) {
	t.Parallel()
	in := []byte{'$', 0, 0, 0, '$', 2, 0, 5, 1, 2, 3, 4, 5, '$', 3, 0, 1, 9}
	br := bufio.NewReader(bytes.NewReader(in))
	buf := make([]byte, 4)
	var f base.InterleavedFrame
	if err := f.Unmarshal(br, buf); !errors.Is(err, base.ErrMalformed) {
		t.Fatalf("empty: %v", err)
	}
	if err := f.Unmarshal(br, buf); !errors.Is(err, base.ErrFrameTooLarge) {
		t.Fatalf("large: %v", err)
	}
	if err := f.Unmarshal(br, buf); err != nil || f.Channel != 3 || f.Payload[0] != 9 {
		t.Fatalf("next: %+v %v", f, err)
	}
	if err := f.Unmarshal(br, buf); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
	if err := f.Unmarshal(bufio.NewReader(bytes.NewReader([]byte("OPTIONS"))), buf); !errors.Is(err, base.ErrMalformed) {
		t.Fatalf("not a frame: %v", err)
	}
	if err := f.Unmarshal(bufio.NewReader(bytes.NewReader([]byte{'$', 0, 0, 3, 1})), buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: %v", err)
	}
}

// FuzzInterleaved reads up to 64 frames from the input, each within
// rtsptest.ParseAlloc: no panic, skipped
// frames keep the stream in sync, and a frame re-marshals to the same
// frame. No crasher found so far.
func FuzzInterleaved(f *testing.F) {
	for _, tc := range interleavedCases {
		f.Add(tc.in)
	}
	f.Add([]byte{'$', 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := make([]byte, 1500)
		br := bufio.NewReader(bytes.NewReader(in))
		for range 64 {
			var fr base.InterleavedFrame
			var err error
			alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = fr.Unmarshal(br, buf) })
			if errors.Is(err, base.ErrFrameTooLarge) || (errors.Is(err, base.ErrMalformed) && len(in) > 0 && in[0] == '$') {
				continue
			}
			if err != nil {
				return
			}
			b, err := fr.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var again base.InterleavedFrame
			if err := again.Unmarshal(bufio.NewReader(bytes.NewReader(b)), make([]byte, 1500)); err != nil ||
				again.Channel != fr.Channel || !bytes.Equal(again.Payload, fr.Payload) {
				t.Fatalf("re-parse: %+v %v", again, err)
			}
		}
	})
}

// repeatReader returns the same bytes forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

func BenchmarkInterleavedRead(b *testing.B) {
	frame, _ := (&base.InterleavedFrame{Channel: 0, Payload: make([]byte, 1400)}).Marshal()
	br := bufio.NewReaderSize(&repeatReader{b: frame}, 128<<10)
	buf := make([]byte, 65535)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var f base.InterleavedFrame
	for b.Loop() {
		if err := f.Unmarshal(br, buf); err != nil {
			b.Fatal(err)
		}
	}
}
