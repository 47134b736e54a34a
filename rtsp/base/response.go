package base

import (
	"bufio"
	"errors"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// Response is an RTSP response [2326 §7]. It is always written as RTSP/1.0.
type Response struct {
	// StatusCode is the status, e.g. StatusOK.
	StatusCode int
	// Reason is the reason phrase; StatusText(StatusCode) when empty on output.
	Reason string
	// Header holds the header fields.
	Header Header
	// Body is the message body; Content-Length is written from its length.
	Body []byte
}

// Unmarshal reads one response from br within the limits lim (zero fields
// take defaults). Errors are as for Request.Unmarshal.
func (r *Response) Unmarshal(br *bufio.Reader, lim Limits) error {
	lim = lim.WithDefaults()
	line, err := readFirstLine(br, lim)
	if err != nil {
		return wrapLineErr(err, "status line")
	}
	if err := r.parseStatusLine(line); err != nil {
		return err
	}
	if r.Header, err = unmarshalHeader(br, lim); err != nil {
		return err
	}
	r.Body, err = readBody(br, r.Header, lim.MaxBody)
	return err
}

// parseStatusLine parses "RTSP/d.d SP 3DIGIT [SP reason]".
func (r *Response) parseStatusLine(line []byte) error {
	if lex.HasCTL(line) {
		return malformed("control character in status line")
	}
	s := string(line)
	if len(s) < 12 || !validProto(s[:8]) || s[8] != ' ' {
		return malformed("bad status line")
	}
	code := s[9:12]
	if !lex.AllDigits(code) || code[0] == '0' {
		return malformed("bad status code")
	}
	rest := s[12:]
	if rest != "" && rest[0] != ' ' {
		return malformed("bad status line")
	}
	r.StatusCode, _ = strconv.Atoi(code)
	r.Reason = strings.Trim(rest, " \t")
	return nil
}

func (r *Response) reason() string {
	if r.Reason == "" {
		return StatusText(r.StatusCode)
	}
	return r.Reason
}

// MarshalSize returns the number of bytes MarshalTo writes.
func (r *Response) MarshalSize() int {
	return len(ProtoRTSP10) + 5 + len(r.reason()) + 2 + r.Header.marshalSize() +
		contentLengthSize(len(r.Body)) + 2 + len(r.Body)
}

// MarshalTo writes the response into buf, which must hold MarshalSize bytes,
// and returns the number of bytes written. Content-Length is written from
// len(Body); any Content-Length in Header is ignored.
func (r *Response) MarshalTo(buf []byte) (int, error) {
	if r.StatusCode < 100 || r.StatusCode > 999 {
		return 0, errors.New("marshal response: bad status code " + strconv.Itoa(r.StatusCode))
	}
	if len(buf) < r.MarshalSize() {
		return 0, errShortBuffer
	}
	pos := copy(buf, ProtoRTSP10)
	buf[pos] = ' '
	pos++
	pos += len(strconv.AppendInt(buf[pos:pos], int64(r.StatusCode), 10))
	buf[pos] = ' '
	pos++
	pos += copy(buf[pos:], r.reason())
	pos += copy(buf[pos:], "\r\n")
	pos += r.Header.marshalTo(buf[pos:])
	pos += marshalContentLength(buf[pos:], len(r.Body))
	pos += copy(buf[pos:], "\r\n")
	pos += copy(buf[pos:], r.Body)
	return pos, nil
}

// Marshal returns the wire form of the response.
func (r *Response) Marshal() ([]byte, error) {
	buf := make([]byte, r.MarshalSize())
	n, err := r.MarshalTo(buf)
	return buf[:n], err
}
