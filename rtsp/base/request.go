package base

import (
	"bufio"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// Request is an RTSP request [2326 §6].
type Request struct {
	// Method is the request method, e.g. MethodSetup.
	Method Method
	// URL is the Request-URI exactly as received: an absolute URI or "*"
	// (RTSP-MSG-01). It may carry userinfo; never log it unredacted
	// (use RedactURL).
	URL string
	// Proto is the protocol version, "RTSP/1.0" when empty on output.
	// Unmarshal accepts any "RTSP/d.d" so the server can answer 505 with the
	// message framing intact (RTSP-MSG-02).
	Proto string
	// Header holds the header fields.
	Header Header
	// Body is the message body; Content-Length is written from its length.
	Body []byte
}

// Unmarshal reads one request from br within the limits lim (zero fields
// take defaults). Empty lines before the request line are skipped. A clean
// EOF before the first byte returns io.EOF. Syntax and size errors are
// *Error values carrying the status to answer (400, 413, 414); after any
// error the reader position is undefined and the connection must close.
func (r *Request) Unmarshal(br *bufio.Reader, lim Limits) error {
	lim = lim.WithDefaults()
	line, err := readFirstLine(br, lim)
	if err != nil {
		if errors.Is(err, ErrLineTooLong) {
			return NewError(StatusRequestURITooLong, "request line too long", ErrURLTooLong)
		}
		return err
	}
	if err := r.parseRequestLine(line, lim); err != nil {
		return err
	}
	if r.Header, err = unmarshalHeader(br, lim); err != nil {
		return err
	}
	r.Body, err = readBody(br, r.Header, lim.MaxBody)
	return err
}

// readFirstLine skips empty lines (at most MaxRequestLine bytes of them)
// and returns the first non-empty line.
func readFirstLine(br *bufio.Reader, lim Limits) ([]byte, error) {
	for skipped := 0; skipped <= lim.MaxRequestLine; skipped += 2 {
		line, err := readLine(br, lim.MaxRequestLine)
		if err != nil || len(line) > 0 {
			return line, err
		}
	}
	return nil, malformed("too many empty lines")
}

func (r *Request) parseRequestLine(line []byte, lim Limits) error {
	if lex.HasCTL(line) || strings.IndexByte(string(line), '\t') >= 0 {
		return malformed("control character in request line")
	}
	parts := strings.Split(string(line), " ")
	if len(parts) != 3 {
		return malformed("request line needs 3 fields")
	}
	method, uri, proto := parts[0], parts[1], parts[2]
	if !lex.IsToken(method) {
		return malformed("bad method")
	}
	if len(uri) > lim.MaxURL {
		return NewError(StatusRequestURITooLong, "url of "+strconv.Itoa(len(uri))+" bytes", ErrURLTooLong)
	}
	if err := checkRequestURI(uri); err != nil {
		return err
	}
	if !validProto(proto) {
		return malformed("bad protocol version")
	}
	r.Method, r.URL, r.Proto = Method(method), uri, proto
	return nil
}

func checkRequestURI(uri string) error {
	if uri == "*" {
		return nil
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return malformed("request-uri is not an absolute url")
	}
	return nil
}

func (r *Request) proto() string {
	if r.Proto == "" {
		return ProtoRTSP10
	}
	return r.Proto
}

// MarshalSize returns the number of bytes MarshalTo writes.
func (r *Request) MarshalSize() int {
	n := len(r.Method) + 1 + len(r.URL) + 1 + len(r.proto()) + 2
	n += r.Header.marshalSize() + contentLengthSize(len(r.Body)) + 2 + len(r.Body)
	return n
}

// MarshalTo writes the request into buf, which must hold MarshalSize bytes,
// and returns the number of bytes written. Header names are written as
// stored (use the Header methods to keep them canonical); Content-Length is
// written from len(Body) and any Content-Length in Header is ignored.
func (r *Request) MarshalTo(buf []byte) (int, error) {
	if len(buf) < r.MarshalSize() {
		return 0, errShortBuffer
	}
	pos := copy(buf, r.Method)
	buf[pos] = ' '
	pos++
	pos += copy(buf[pos:], r.URL)
	buf[pos] = ' '
	pos++
	pos += copy(buf[pos:], r.proto())
	pos += copy(buf[pos:], "\r\n")
	pos += r.Header.marshalTo(buf[pos:])
	pos += marshalContentLength(buf[pos:], len(r.Body))
	pos += copy(buf[pos:], "\r\n")
	pos += copy(buf[pos:], r.Body)
	return pos, nil
}

// Marshal returns the wire form of the request.
func (r *Request) Marshal() ([]byte, error) {
	buf := make([]byte, r.MarshalSize())
	n, err := r.MarshalTo(buf)
	return buf[:n], err
}

var errShortBuffer = errors.New("buffer too short")

func contentLengthSize(n int) int {
	if n == 0 {
		return 0
	}
	return len("Content-Length: ") + len(strconv.Itoa(n)) + 2
}

func marshalContentLength(buf []byte, n int) int {
	if n == 0 {
		return 0
	}
	pos := copy(buf, "Content-Length: ")
	pos += len(strconv.AppendInt(buf[pos:pos], int64(n), 10))
	pos += copy(buf[pos:], "\r\n")
	return pos
}

// RedactURL returns raw with any userinfo removed, for logging
// (RTSP-MSG-10). Unparseable input is replaced by a placeholder.
func RedactURL(raw string) string {
	if raw == "*" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	u.User = nil
	return u.String()
}
