package base_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

// requestCases drive decode, encode and the fuzz seeds. out is the
// canonical encoding when it differs from in.
var requestCases = []struct {
	name string
	in   string
	out  string
	want base.Request
}{
	{
		name: "RTSP-M-01 options star",
		in:   "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n",
		want: base.Request{Method: "OPTIONS", URL: "*", Proto: "RTSP/1.0", Header: base.Header{"CSeq": {"1"}}},
	},
	{
		name: "CLI-07 ffmpeg announce A.1",
		in: "ANNOUNCE rtsp://nvr:8554/cam1 RTSP/1.0\r\nContent-Type: application/sdp\r\nCSeq: 2\r\n" +
			"User-Agent: Lavf61.1.100\r\nContent-Length: 10\r\n\r\nv=0\r\ns=x\r\n",
		out: "ANNOUNCE rtsp://nvr:8554/cam1 RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n" +
			"User-Agent: Lavf61.1.100\r\nContent-Length: 10\r\n\r\nv=0\r\ns=x\r\n",
		want: base.Request{
			Method: "ANNOUNCE", URL: "rtsp://nvr:8554/cam1", Proto: "RTSP/1.0",
			Header: base.Header{
				"Content-Type": {"application/sdp"}, "CSeq": {"2"},
				"User-Agent": {"Lavf61.1.100"}, "Content-Length": {"10"},
			},
			Body: []byte("v=0\r\ns=x\r\n"),
		},
	},
	{
		name: "RTSP-MSG-03 bare LF and RTSP-MSG-04 case-insensitive names",
		in:   "SETUP rtsp://h/cam1/streamid=0 RTSP/1.0\ncseq: 3\ntransport:   RTP/AVP/TCP;interleaved=0-1  \nrtp-info: x\n\n",
		out:  "SETUP rtsp://h/cam1/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nRTP-Info: x\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n",
		want: base.Request{
			Method: "SETUP", URL: "rtsp://h/cam1/streamid=0", Proto: "RTSP/1.0",
			Header: base.Header{"CSeq": {"3"}, "Transport": {"RTP/AVP/TCP;interleaved=0-1"}, "RTP-Info": {"x"}},
		},
	},
	{
		name: "RTSP-MSG-04 continuation unfolded",
		in:   "GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 9\r\nX-Long: a\r\n  b\r\n\tc\r\n\r\n",
		out:  "GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 9\r\nX-Long: a b c\r\n\r\n",
		want: base.Request{
			Method: "GET_PARAMETER", URL: "rtsp://h/a", Proto: "RTSP/1.0",
			Header: base.Header{"CSeq": {"9"}, "X-Long": {"a b c"}},
		},
	},
	{
		name: "leading empty lines skipped, repeated header kept in order",
		in:   "\r\n\r\nPLAY rtsp://h/a RTSP/1.0\r\nCSeq: 4\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
		out:  "PLAY rtsp://h/a RTSP/1.0\r\nCSeq: 4\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
		want: base.Request{Method: "PLAY", URL: "rtsp://h/a", Proto: "RTSP/1.0", Header: base.Header{"CSeq": {"4"}, "X-A": {"1", "2"}}},
	},
	{
		name: "RTSP-MSG-02 other version parsed for 505",
		in:   "OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n",
		want: base.Request{Method: "OPTIONS", URL: "*", Proto: "RTSP/2.0", Header: base.Header{"CSeq": {"1"}}},
	},
}

// badRequests must fail with the given status (0: a plain I/O error).
var badRequests = []struct {
	name   string
	in     string
	status int
}{
	{"three fields", "OPTIONS *\r\n\r\n", 400},
	{"double space", "OPTIONS  * RTSP/1.0\r\n\r\n", 400},
	{"SEC-10 control char in value", "OPTIONS * RTSP/1.0\r\nCSeq: 1\x01\r\n\r\n", 400},
	{"SEC-10 bare CR in value", "OPTIONS * RTSP/1.0\r\nCSeq: 1\rX: y\r\n\r\n", 400},
	{"SEC-11 duplicate CSeq", "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 1\r\n\r\n", 400},
	{"SEC-11 duplicate Content-Length", "OPTIONS * RTSP/1.0\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n", 400},
	{"SEC-11 duplicate Session", "OPTIONS * RTSP/1.0\r\nSession: a\r\nSession: a\r\n\r\n", 400},
	{"SEC-11 duplicate Transport", "OPTIONS * RTSP/1.0\r\nTransport: a\r\nTransport: b\r\n\r\n", 400},
	{"RTSP-MSG-06 negative Content-Length", "OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n", 400},
	{"RTSP-MSG-06 Content-Length too large 413", "OPTIONS * RTSP/1.0\r\nContent-Length: 65537\r\n\r\n", 413},
	{"RTSP-MSG-06 huge Content-Length 413", "OPTIONS * RTSP/1.0\r\nContent-Length: 99999999999999999999\r\n\r\n", 413},
	{"SEC-01 url too long 414", "OPTIONS rtsp://h/" + strings.Repeat("a", 2100) + " RTSP/1.0\r\n\r\n", 414},
	{"SEC-01 request line too long 414", "OPTIONS rtsp://h/" + strings.Repeat("a", 5000) + " RTSP/1.0\r\n\r\n", 414},
	{"SEC-01 header line too long", "OPTIONS * RTSP/1.0\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", 400},
	{"SEC-01 too many headers", "OPTIONS * RTSP/1.0\r\n" + strings.Repeat("X: a\r\n", 65) + "\r\n", 400},
	{"SEC-01 header block too large", "OPTIONS * RTSP/1.0\r\n" + strings.Repeat("X: "+strings.Repeat("a", 4000)+"\r\n", 5) + "\r\n", 400},
	{"continuation first", "OPTIONS * RTSP/1.0\r\n x\r\n\r\n", 400},
	{"no colon", "OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n", 400},
	{"bad header name", "OPTIONS * RTSP/1.0\r\nC Seq: 1\r\n\r\n", 400},
	{"relative url", "OPTIONS /cam1 RTSP/1.0\r\n\r\n", 400},
	{"bad proto", "OPTIONS * HTTP/1.1\r\n\r\n", 400},
	{"truncated body", "ANNOUNCE rtsp://h/a RTSP/1.0\r\nContent-Length: 10\r\n\r\nabc", 0},
	{"truncated header", "OPTIONS * RTSP/1.0\r\nCSeq: 1", 0},
}

func TestRequestUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			var req base.Request
			if err := req.Unmarshal(bufio.NewReader(strings.NewReader(tc.in)), base.Limits{}); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(req, tc.want) {
				t.Fatalf("got %#v\nwant %#v", req, tc.want)
			}
		})
	}
}

func TestRequestMarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range requestCases {
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
			if n := tc.want.MarshalSize(); n != len(b) {
				t.Fatalf("MarshalSize %d, wrote %d", n, len(b))
			}
		})
	}
}

func TestRequestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range badRequests {
		t.Run(tc.name, func(t *testing.T) {
			var req base.Request
			err := req.Unmarshal(bufio.NewReader(strings.NewReader(tc.in)), base.Limits{})
			if err == nil {
				t.Fatal("no error")
			}
			var e *base.Error
			switch {
			case tc.status == 0 && errors.As(err, &e):
				t.Fatalf("got status error %v, want I/O error", err)
			case tc.status != 0 && (!errors.As(err, &e) || e.Status != tc.status):
				t.Fatalf("got %v, want status %d", err, tc.status)
			}
		})
	}
}

func TestRequestUnmarshalEOF(t *testing.T) {
	t.Parallel()
	var req base.Request
	if err := req.Unmarshal(bufio.NewReader(strings.NewReader("")), base.Limits{}); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

// TestRequestSmallReadBuffer reads lines longer than the bufio buffer.
func TestRequestSmallReadBuffer(t *testing.T) {
	t.Parallel()
	in := "OPTIONS rtsp://h/" + strings.Repeat("a", 100) + " RTSP/1.0\r\nX: " + strings.Repeat("b", 100) + "\r\n\r\n"
	var req base.Request
	if err := req.Unmarshal(bufio.NewReaderSize(strings.NewReader(in), 16), base.Limits{}); err != nil {
		t.Fatal(err)
	}
	if len(req.Header.Get("x")) != 100 {
		t.Fatalf("header %q", req.Header.Get("x"))
	}
}

func TestRequestPipelined(t *testing.T) {
	t.Parallel()
	in := requestCases[0].in + requestCases[1].in + requestCases[2].in
	br := bufio.NewReader(strings.NewReader(in))
	for i := range 3 {
		var req base.Request
		if err := req.Unmarshal(br, base.Limits{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if req.Method != requestCases[i].want.Method {
			t.Fatalf("request %d: method %s", i, req.Method)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	if got := base.RedactURL("rtsp://user:pass@h:554/cam?x=1"); got != "rtsp://h:554/cam?x=1" {
		t.Fatalf("got %q", got)
	}
}

// FuzzRequestUnmarshal checks that no input panics, memory stays within the
// limits, and a successful parse re-marshals to something that parses equal.
// No crasher found so far (20s runs).
func FuzzRequestUnmarshal(f *testing.F) {
	for _, tc := range requestCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range badRequests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := base.Limits{MaxBody: 4096}
		var req base.Request
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = req.Unmarshal(bufio.NewReader(bytes.NewReader(in)), lim) })
		if err != nil {
			return
		}
		if len(req.Body) > lim.MaxBody {
			t.Fatalf("body of %d bytes", len(req.Body))
		}
		b, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var again base.Request
		if err := again.Unmarshal(bufio.NewReader(bytes.NewReader(b)), lim); err != nil {
			t.Fatalf("re-parse %q: %v", b, err)
		}
		req.Header.Del("Content-Length")
		again.Header.Del("Content-Length")
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("re-parse differs:\n%#v\n%#v", req, again)
		}
	})
}

func BenchmarkRequestUnmarshal(b *testing.B) {
	in := []byte("SETUP rtsp://nvr:8554/cam1/streamid=1 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3;mode=record\r\n" +
		"CSeq: 4\r\nUser-Agent: Lavf61.1.100\r\nSession: 6bd8c1e2a94f4d1f9c0e7b3a5d2f8e41\r\n\r\n")
	rd := bytes.NewReader(in)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		rd.Reset(in)
		br.Reset(rd)
		var req base.Request
		if err := req.Unmarshal(br, base.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
