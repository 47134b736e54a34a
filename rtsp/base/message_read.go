package base

import (
	"bufio"
	"errors"
	"io"
	"strconv"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// ProtoRTSP10 is the protocol version of every message camvault reads and writes.
const ProtoRTSP10 = "RTSP/1.0"

// readLine reads one line terminated by CRLF or a bare LF (RTSP-MSG-03)
// and returns it without the terminator. A line longer than max bytes gives
// ErrLineTooLong; the reader is then out of sync and the caller must close.
// The returned slice is freshly allocated only when the line spans more
// than one buffer fill; otherwise it aliases br's buffer and is valid until
// the next read.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var acc []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(acc)+len(frag) > max+2 {
			return nil, ErrLineTooLong
		}
		switch {
		case err == nil:
			if acc != nil {
				frag = append(acc, frag...)
			}
			return trimEOL(frag, max)
		case errors.Is(err, bufio.ErrBufferFull):
			acc = append(acc, frag...)
		case errors.Is(err, io.EOF) && len(acc)+len(frag) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

func trimEOL(line []byte, max int) ([]byte, error) {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > max {
		return nil, ErrLineTooLong
	}
	return line, nil
}

// validProto reports whether s is "RTSP/" DIGIT "." DIGIT.
func validProto(s string) bool {
	return len(s) == 8 && s[:5] == "RTSP/" && lex.IsDigit(s[5]) && s[6] == '.' && lex.IsDigit(s[7])
}

// readBody reads the body announced by Content-Length (RTSP-MSG-06). An
// absent header means no body.
func readBody(br *bufio.Reader, h Header, max int) ([]byte, error) {
	v, ok := h.Lookup("Content-Length")
	if !ok {
		return nil, nil
	}
	n, err := parseContentLength(v, max)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

func parseContentLength(v string, max int) (int, error) {
	if v == "" || len(v) > 12 {
		if len(v) > 12 && lex.AllDigits(v) {
			return 0, NewError(StatusRequestEntityTooLarge, "content-length "+v, ErrBodyTooLarge)
		}
		return 0, NewError(StatusBadRequest, "bad content-length", ErrMalformed)
	}
	if !lex.AllDigits(v) {
		return 0, NewError(StatusBadRequest, "bad content-length", ErrMalformed)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, NewError(StatusBadRequest, "bad content-length", ErrMalformed)
	}
	if n > max {
		return 0, NewError(StatusRequestEntityTooLarge, "content-length "+v, ErrBodyTooLarge)
	}
	return n, nil
}

// malformed wraps a syntax error as a 400.
func malformed(what string) error {
	return NewError(StatusBadRequest, what, ErrMalformed)
}

// wrapIOErr turns reader errors into decoding errors: EOF stays EOF so the
// caller can tell a clean close, ErrLineTooLong becomes a 400.
func wrapLineErr(err error, what string) error {
	if errors.Is(err, ErrLineTooLong) {
		return NewError(StatusBadRequest, what+" too long", ErrLineTooLong)
	}
	return err
}
