package tunnel_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/tunnel"
)

// Heads as the reference clients send them.
const (
	ffmpegGet = "GET /archive/cam HTTP/1.1\r\nUser-Agent: Lavf59.27.100\r\nAccept: */*\r\nRange: bytes=0-\r\n" +
		"Connection: close\r\nHost: 127.0.0.1:8554\r\nIcy-MetaData: 1\r\nx-sessioncookie: 6a3c5e0f1b2d4c7a\r\n" +
		"Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n"
	ffmpegPost = "POST /archive/cam HTTP/1.1\r\nUser-Agent: Lavf59.27.100\r\nAccept: */*\r\n" +
		"Connection: close\r\nHost: 127.0.0.1:8554\r\nIcy-MetaData: 1\r\nx-sessioncookie: 6a3c5e0f1b2d4c7a\r\n" +
		"Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n" +
		"Content-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n"
	gstGet = "GET /archive/cam HTTP/1.0\r\nx-sessioncookie: qwertyuiopasdfghjklzxcv\r\n" +
		"Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n"
	qtPost = "POST /sw.mov HTTP/1.0\r\nUser-Agent: QTS (qtver=4.1;cpu=PPC;os=Mac 8.6)\r\n" +
		"x-sessioncookie: tD9hKgAAfB8ABCftAAAAAw\r\nContent-Type: application/x-rtsp-tunnelled\r\n" +
		"Pragma: no-cache\r\nCache-Control: no-cache\r\nContent-Length: 32767\r\n" +
		"Expires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n"
)

// requestCases drive TestClassify and seed FuzzRequest.
var requestCases = []struct {
	name, in string
	kind     tunnel.Kind
	cookie   string
	minor    int
	status   int   // of the error; 0 for a tunnel request
	err      error // wrapped by the error
}{
	{name: "ffmpeg get", in: ffmpegGet, kind: tunnel.KindGet, cookie: "6a3c5e0f1b2d4c7a", minor: 1},
	{name: "ffmpeg post", in: ffmpegPost, kind: tunnel.KindPost, cookie: "6a3c5e0f1b2d4c7a", minor: 1},
	{name: "gstreamer get", in: gstGet, kind: tunnel.KindGet, cookie: "qwertyuiopasdfghjklzxcv"},
	{name: "quicktime post", in: qtPost, kind: tunnel.KindPost, cookie: "tD9hKgAAfB8ABCftAAAAAw"},
	{name: "cookie name in capitals", in: "GET / HTTP/1.0\r\nX-SESSIONCOOKIE: abc\r\n\r\n", kind: tunnel.KindGet, cookie: "abc"},
	{name: "no cookie", in: "GET /cam HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n", status: 400, err: tunnel.ErrNotTunnel},
	{name: "browser", in: "GET / HTTP/1.1\r\nHost: nvr\r\n\r\n", status: 400, err: tunnel.ErrNotTunnel},
	{name: "other method", in: "PUT / HTTP/1.1\r\nx-sessioncookie: abc\r\n\r\n", status: 405, err: tunnel.ErrNotTunnel},
	{name: "two cookies", in: "GET / HTTP/1.0\r\nx-sessioncookie: a\r\nx-sessioncookie: b\r\n\r\n", status: 400, err: tunnel.ErrBadCookie},
	{name: "empty cookie", in: "GET / HTTP/1.0\r\nx-sessioncookie: \r\n\r\n", status: 400, err: tunnel.ErrBadCookie},
	{name: "cookie with space", in: "POST / HTTP/1.0\r\nx-sessioncookie: a b\r\n\r\n", status: 400, err: tunnel.ErrBadCookie},
	{name: "cookie with quote", in: "POST / HTTP/1.0\r\nx-sessioncookie: a\"b\r\n\r\n", status: 400, err: tunnel.ErrBadCookie},
	{name: "cookie too long", in: "GET / HTTP/1.0\r\nx-sessioncookie: " + strings.Repeat("a", tunnel.MaxCookieLen+1) + "\r\n\r\n", status: 400, err: tunnel.ErrBadCookie},
	{name: "rtsp request", in: "GET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n\r\n", status: 505},
	{name: "http/2 preface", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 505},
	{name: "missing version", in: "GET /\r\n\r\n", status: 400},
	{name: "control character", in: "GET /\x01 HTTP/1.0\r\n\r\n", status: 400},
}

// parseHead reads the head of in and classifies it; the status of an error.
func parseHead(in string) (tunnel.Request, *base.HTTPRequest, int, error) {
	var h base.HTTPRequest
	if err := h.Unmarshal(bufio.NewReader(strings.NewReader(in)), base.Limits{}); err != nil {
		var e *base.Error
		if !errors.As(err, &e) {
			return tunnel.Request{}, nil, 0, err
		}
		return tunnel.Request{}, nil, e.Status, err
	}
	req, err := tunnel.Classify(&h)
	var e *base.Error
	if errors.As(err, &e) {
		return req, &h, e.Status, err
	}
	return req, &h, 0, err
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, h, status, err := parseHead(tc.in)
			if status != tc.status || tc.err != nil && !errors.Is(err, tc.err) || tc.status == 0 && err != nil {
				t.Fatalf("status %d error %v, want %d %v", status, err, tc.status, tc.err)
			}
			if tc.status != 0 {
				return
			}
			if req.Kind != tc.kind || req.Cookie != tc.cookie || h.Minor != tc.minor {
				t.Fatalf("got %v %q HTTP/1.%d, want %v %q HTTP/1.%d", req.Kind, req.Cookie, h.Minor, tc.kind, tc.cookie, tc.minor)
			}
		})
	}
}

// TestHeadLimits: the head is read within base.Limits (SEC-01).
func TestHeadLimits(t *testing.T) {
	t.Parallel()
	lim := base.Limits{MaxRequestLine: 256, MaxURL: 256, MaxHeaderLine: 256, MaxHeaders: 4, MaxHeaderBytes: 1024}
	for _, tc := range []struct {
		name, in string
		status   int
	}{
		{"long target", "GET /" + strings.Repeat("a", 300) + " HTTP/1.0\r\n\r\n", 414},
		{"long line", "GET / HTTP/1.0\r\nx: " + strings.Repeat("a", 300) + "\r\n\r\n", 400},
		{"many headers", "GET / HTTP/1.0\r\n" + strings.Repeat("x: a\r\n", 5) + "\r\n", 400},
	} {
		var h base.HTTPRequest
		err := h.Unmarshal(bufio.NewReader(strings.NewReader(tc.in)), lim)
		var e *base.Error
		if !errors.As(err, &e) || e.Status != tc.status {
			t.Errorf("%s: %v, want status %d", tc.name, err, tc.status)
		}
	}
}

func TestAppendAnswers(t *testing.T) {
	t.Parallel()
	ok := string(tunnel.AppendOK(nil, 0, "camvault"))
	want := "HTTP/1.0 200 OK\r\nServer: camvault\r\nContent-Type: application/x-rtsp-tunnelled\r\n" +
		"Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n"
	if ok != want {
		t.Fatalf("AppendOK:\n%q\nwant\n%q", ok, want)
	}
	h := base.Header{}
	h.Add("WWW-Authenticate", `Digest realm="r", nonce="n"`)
	got := string(tunnel.AppendError([]byte("x"), 1, 401, "camvault", h))
	want = "xHTTP/1.1 401 Unauthorized\r\nServer: camvault\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n" +
		"Content-Length: 0\r\nConnection: close\r\n\r\n"
	if got != want {
		t.Fatalf("AppendError:\n%q\nwant\n%q", got, want)
	}
	if got := string(tunnel.AppendError(nil, 7, 409, "s", nil)); !strings.HasPrefix(got, "HTTP/1.1 409 Conflict\r\n") {
		t.Fatalf("minor above 1: %q", got)
	}
}
