package lex

import (
	"errors"
	"io"
	"testing"
)

func TestAllDigits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{{"0", true}, {"0123456789", true}, {"", false}, {"12a", false}, {"-1", false}, {" 1", false}} {
		if got := AllDigits(tc.in); got != tc.want {
			t.Errorf("AllDigits(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestHasCTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{{"plain text", false}, {"tab\there", false}, {"", false}, {"nul\x00", true}, {"cr\r", true}, {"del\x7f", true}} {
		if got := HasCTL([]byte(tc.in)); got != tc.want {
			t.Errorf("HasCTL(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestIsToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"OPTIONS", true}, {"GET_PARAMETER", true}, {"x-Custom.1~!", true},
		{"", false}, {"a b", false}, {"a:b", false}, {"a/b", false}, {"caf\xc3\xa9", false}, {"a\x7f", false},
	} {
		if got := IsToken(tc.in); got != tc.want {
			t.Errorf("IsToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestUnexpectedEOF(t *testing.T) {
	t.Parallel()
	other := errors.New("other")
	for _, tc := range []struct {
		err  error
		got  int
		want error
	}{{io.EOF, 0, io.EOF}, {io.EOF, 1, io.ErrUnexpectedEOF}, {other, 3, other}, {nil, 0, nil}} {
		if got := UnexpectedEOF(tc.err, tc.got); got != tc.want {
			t.Errorf("UnexpectedEOF(%v, %d) = %v, want %v", tc.err, tc.got, got, tc.want)
		}
	}
}
