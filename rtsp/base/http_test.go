package base_test

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/camvault/camvault/rtsp/base"
)

// TestHTTPRequest reads the heads of RTSP-over-HTTP requests (RTSP-HT-01):
// the reader stops at the body, and what is not HTTP/1.x gets a status.
func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     base.HTTPRequest
		status   int
	}{
		{
			name: "post with body",
			in:   "POST /archive/cam?start=1 HTTP/1.0\r\nx-sessioncookie: abc\r\nContent-Length: 32767\r\n\r\nT1BU",
			want: base.HTTPRequest{Method: "POST", Target: "/archive/cam?start=1", Minor: 0,
				Header: base.Header{"X-Sessioncookie": {"abc"}, "Content-Length": {"32767"}}},
		},
		{
			name: "bare LF",
			in:   "GET / HTTP/1.1\nAccept: application/x-rtsp-tunnelled\n\n",
			want: base.HTTPRequest{Method: "GET", Target: "/", Minor: 1, Header: base.Header{"Accept": {"application/x-rtsp-tunnelled"}}},
		},
		{name: "rtsp", in: "OPTIONS * RTSP/1.0\r\n\r\n", status: 505},
		{name: "http/2", in: "GET / HTTP/2.0\r\n\r\n", status: 505},
		{name: "four fields", in: "GET / x HTTP/1.0\r\n\r\n", status: 400},
		{name: "empty target", in: "GET  HTTP/1.0\r\n\r\n", status: 400},
		{name: "bad method", in: "G(T / HTTP/1.0\r\n\r\n", status: 400},
		{name: "duplicate content-length", in: "POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.in))
			var got base.HTTPRequest
			err := got.Unmarshal(br, base.Limits{})
			if tc.status != 0 {
				var e *base.Error
				if !errors.As(err, &e) || e.Status != tc.status {
					t.Fatalf("error %v, want status %d", err, tc.status)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
			if rest, _ := br.Peek(br.Buffered()); strings.HasPrefix(tc.in, "POST") && string(rest) != "T1BU" {
				t.Fatalf("body %q left in the reader, want T1BU", rest)
			}
		})
	}
}
