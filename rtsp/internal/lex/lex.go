// Package lex holds the character classes of the RTSP grammar (RFC 2326 §15, RFC 2616 §2.2)
// that the wire packages and the server share: digits, tokens, control characters, and the
// end of a stream in the middle of a frame. It is functions over bytes, like the wire packages
// it serves, and internal to rtsp so that it stays no one else's API.
package lex

import (
	"errors"
	"io"
)

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// AllDigits reports whether s is a non-empty run of ASCII digits.
func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !IsDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// isCTL reports whether c is a control character other than HT (SEC-10).
func isCTL(c byte) bool { return (c < 0x20 && c != '\t') || c == 0x7f }

// HasCTL reports whether b holds a control character other than HT (SEC-10).
func HasCTL(b []byte) bool {
	for _, c := range b {
		if isCTL(c) {
			return true
		}
	}
	return false
}

// IsToken reports whether s is a non-empty RFC 2616 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		switch c {
		case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
			return false
		}
	}
	return true
}

// UnexpectedEOF turns EOF after got bytes of a frame into io.ErrUnexpectedEOF: a stream that
// ends between frames ends cleanly, one that ends inside a frame does not.
func UnexpectedEOF(err error, got int) error {
	if errors.Is(err, io.EOF) && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}
