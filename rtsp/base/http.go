package base

import (
	"bufio"
	"errors"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// HTTPRequest is the head of an HTTP/1.x request: what the GET and POST of
// RTSP over HTTP send before their streams (RTSP-HT-01). It shares the
// header grammar and the limits of RTSP messages; a body is never read.
type HTTPRequest struct {
	// Method is the request method, e.g. "GET".
	Method string
	// Target is the request-target as received: an absolute path with its
	// query ("/archive/cam?start=T") or an absolute URL (a request sent to
	// a proxy).
	Target string
	// Minor is the minor version of HTTP/1.x.
	Minor int
	// Header holds the header fields.
	Header Header
}

// Unmarshal reads the request line and the header of one HTTP/1.x request
// from br within lim (zero fields take defaults) and leaves br at the first
// byte after the empty line. Errors are *Error values with the status to
// answer (400, 414, 505); after one the reader position is undefined.
func (r *HTTPRequest) Unmarshal(br *bufio.Reader, lim Limits) error {
	lim = lim.WithDefaults()
	line, err := readLine(br, lim.MaxRequestLine)
	if errors.Is(err, ErrLineTooLong) {
		return NewError(StatusRequestURITooLong, "http request line too long", ErrURLTooLong)
	}
	if err != nil {
		return err
	}
	if err := r.parseRequestLine(string(line), lim); err != nil {
		return err
	}
	r.Header, err = unmarshalHeader(br, lim)
	return err
}

func (r *HTTPRequest) parseRequestLine(line string, lim Limits) error {
	if lex.HasCTL([]byte(line)) || strings.IndexByte(line, '\t') >= 0 {
		return malformed("control character in request line")
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !lex.IsToken(method) || target == "" || strings.IndexByte(proto, ' ') >= 0 {
		return malformed("http request line needs 3 fields")
	}
	if len(target) > lim.MaxURL {
		return NewError(StatusRequestURITooLong, "http request-target too long", ErrURLTooLong)
	}
	if len(proto) != 8 || proto[:7] != "HTTP/1." || !lex.IsDigit(proto[7]) {
		return NewError(StatusRTSPVersionNotSupported, "not http/1.x", ErrMalformed)
	}
	r.Method, r.Target, r.Minor = method, target, int(proto[7]-'0')
	return nil
}
