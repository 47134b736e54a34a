package base_test

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

var responseCases = []struct {
	name string
	in   string
	out  string
	want base.Response
}{
	{
		name: "RTSP-M-01 options",
		in:   "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, ANNOUNCE\r\n\r\n",
		want: base.Response{StatusCode: 200, Reason: "OK", Header: base.Header{"CSeq": {"1"}, "Public": {"OPTIONS, ANNOUNCE"}}},
	},
	{
		name: "RTSP-SES-02 setup with session timeout",
		in: "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 6bd8c1e2a94f4d1f9c0e7b3a5d2f8e41;timeout=60\r\n" +
			"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n",
		want: base.Response{StatusCode: 200, Reason: "OK", Header: base.Header{
			"CSeq": {"3"}, "Session": {"6bd8c1e2a94f4d1f9c0e7b3a5d2f8e41;timeout=60"},
			"Transport": {"RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"},
		}},
	},
	{
		name: "RTSP-M-37 451 with body",
		in:   "RTSP/1.0 451 Parameter Not Understood\r\nCSeq: 7\r\nContent-Type: text/parameters\r\nContent-Length: 5\r\n\r\nfoo\r\n",
		want: base.Response{StatusCode: 451, Reason: "Parameter Not Understood", Header: base.Header{
			"CSeq": {"7"}, "Content-Type": {"text/parameters"}, "Content-Length": {"5"},
		}, Body: []byte("foo\r\n")},
	},
	{
		name: "RTSP-MSG-11 unknown code, empty reason",
		in:   "RTSP/1.0 499\r\nCSeq: 1\r\n\r\n",
		out:  "RTSP/1.0 499 Client Error\r\nCSeq: 1\r\n\r\n",
		want: base.Response{StatusCode: 499, Header: base.Header{"CSeq": {"1"}}},
	},
}

var badResponses = []string{
	"RTSP/1.0 20 OK\r\n\r\n",
	"RTSP/1.0 2000 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\n\r\n",
	"RTSP/1.0 200 OK\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n",
	"RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n",
	"RTSP/1.0 200 OK\x00\r\n\r\n",
}

func TestResponseUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			var resp base.Response
			if err := resp.Unmarshal(bufio.NewReader(strings.NewReader(tc.in)), base.Limits{}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(resp, tc.want) {
				t.Fatalf("got %#v\nwant %#v", resp, tc.want)
			}
		})
	}
}

func TestResponseMarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.out
			if want == "" {
				want = tc.in
			}
			b, err := tc.want.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != want {
				t.Fatalf("got %q\nwant %q", b, want)
			}
		})
	}
}

func TestResponseUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, in := range badResponses {
		var resp base.Response
		err := resp.Unmarshal(bufio.NewReader(strings.NewReader(in)), base.Limits{})
		var e *base.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Errorf("%q: got %v, want status 400", in, err)
		}
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{200: "OK", 454: "Session Not Found", 551: "Option not supported", 299: "OK", 477: "Client Error"} {
		if got := base.StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q, want %q", code, got, want)
		}
	}
}

// FuzzResponseUnmarshal checks no panic, bounded memory and that a parsed
// response re-marshals to one that parses equal. No crasher found so far.
func FuzzResponseUnmarshal(f *testing.F) {
	for _, tc := range responseCases {
		f.Add([]byte(tc.in))
	}
	for _, in := range badResponses {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := base.Limits{MaxBody: 4096}
		var resp base.Response
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = resp.Unmarshal(bufio.NewReader(bytes.NewReader(in)), lim) })
		if err != nil {
			return
		}
		b, err := resp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var again base.Response
		if err := again.Unmarshal(bufio.NewReader(bytes.NewReader(b)), lim); err != nil {
			t.Fatalf("re-parse %q: %v", b, err)
		}
		resp.Header.Del("Content-Length")
		again.Header.Del("Content-Length")
		if resp.Reason == "" {
			resp.Reason = base.StatusText(resp.StatusCode)
		}
		if !reflect.DeepEqual(resp, again) {
			t.Fatalf("re-parse differs:\n%#v\n%#v", resp, again)
		}
	})
}
