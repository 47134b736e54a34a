package base

import (
	"bufio"
	"slices"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// Header holds the header fields of a request or response, keyed by
// canonical name (CanonicalHeaderName). Values keep their arrival order.
// Use the methods, which canonicalise the name, rather than indexing.
type Header map[string][]string

// uniqueHeaders may appear at most once per message (SEC-11).
var uniqueHeaders = [...]string{"CSeq", "Content-Length", "Session", "Transport"}

// specialNames are canonical spellings that the title-case rule gets wrong
// (RTSP-MSG-04).
var specialNames = map[string]string{
	"cseq":             "CSeq",
	"rtp-info":         "RTP-Info",
	"www-authenticate": "WWW-Authenticate",
}

// CanonicalHeaderName returns the canonical spelling of a header name:
// CSeq, RTP-Info and WWW-Authenticate as written in RFC 2326, every other
// name in title case ("content-base" -> "Content-Base").
func CanonicalHeaderName(name string) string {
	if s, ok := specialNames[strings.ToLower(name)]; ok {
		return s
	}
	if isCanonical(name) {
		return name
	}
	b := []byte(name)
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && c >= 'A' && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

func isCanonical(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (upper && c >= 'a' && c <= 'z') || (!upper && c >= 'A' && c <= 'Z') {
			return false
		}
		upper = c == '-'
	}
	return true
}

// Get returns the first value of the named header, or "".
func (h Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup returns the first value of the named header and whether it is present.
func (h Header) Lookup(name string) (string, bool) {
	vs := h[CanonicalHeaderName(name)]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// Has reports whether the named header is present.
func (h Header) Has(name string) bool { return len(h[CanonicalHeaderName(name)]) > 0 }

// Values returns every value of the named header; the slice aliases h.
func (h Header) Values(name string) []string { return h[CanonicalHeaderName(name)] }

// Set replaces the named header with one value.
func (h Header) Set(name, value string) { h[CanonicalHeaderName(name)] = []string{value} }

// Add appends a value to the named header.
func (h Header) Add(name, value string) {
	k := CanonicalHeaderName(name)
	h[k] = append(h[k], value)
}

// Del removes the named header.
func (h Header) Del(name string) { delete(h, CanonicalHeaderName(name)) }

// Clone returns a deep copy of h.
func (h Header) Clone() Header {
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = slices.Clone(v)
	}
	return c
}

// sortedKeys returns the names to marshal: CSeq first, then the others in
// lexical order so that output is deterministic. Content-Length is left out;
// messages write it from their body.
func (h Header) sortedKeys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		if k != "CSeq" && k != "Content-Length" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := h["CSeq"]; ok {
		keys = append([]string{"CSeq"}, keys...)
	}
	return keys
}

func (h Header) marshalSize() int {
	n := 0
	for _, k := range h.sortedKeys() {
		for _, v := range h[k] {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

func (h Header) marshalTo(buf []byte) int {
	pos := 0
	for _, k := range h.sortedKeys() {
		for _, v := range h[k] {
			pos += copy(buf[pos:], k)
			pos += copy(buf[pos:], ": ")
			pos += copy(buf[pos:], v)
			pos += copy(buf[pos:], "\r\n")
		}
	}
	return pos
}

// unmarshalHeader reads header lines up to and including the empty line.
// Folded lines (leading SP/HT) are unfolded with one SP (RTSP-MSG-04);
// values with control characters are refused (SEC-10).
func unmarshalHeader(br *bufio.Reader, lim Limits) (Header, error) {
	h := make(Header)
	total, count := 0, 0
	var last string
	for {
		line, err := readLine(br, lim.MaxHeaderLine)
		if err != nil {
			return nil, wrapLineErr(err, "header line")
		}
		if len(line) == 0 {
			return h, h.checkUnique()
		}
		total += len(line) + 2
		count++
		if total > lim.MaxHeaderBytes || count > lim.MaxHeaders {
			return nil, NewError(StatusBadRequest, "header block too large", ErrHeaderTooLarge)
		}
		if lex.HasCTL(line) {
			return nil, malformed("control character in header")
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return nil, malformed("continuation without header")
			}
			h.unfold(last, strings.Trim(string(line), " \t"))
			continue
		}
		if last, err = h.addLine(line); err != nil {
			return nil, err
		}
	}
}

func (h Header) addLine(line []byte) (string, error) {
	i := strings.IndexByte(string(line), ':')
	if i <= 0 {
		return "", malformed("header without colon")
	}
	name := strings.TrimRight(string(line[:i]), " \t")
	if !lex.IsToken(name) {
		return "", malformed("bad header name")
	}
	name = CanonicalHeaderName(name)
	h[name] = append(h[name], strings.Trim(string(line[i+1:]), " \t"))
	return name, nil
}

func (h Header) unfold(name, more string) {
	vs := h[name]
	v := vs[len(vs)-1]
	switch {
	case more == "":
	case v == "":
		v = more
	default:
		v += " " + more
	}
	vs[len(vs)-1] = v
}

func (h Header) checkUnique() error {
	for _, k := range uniqueHeaders {
		if len(h[k]) > 1 {
			return NewError(StatusBadRequest, "duplicate "+k, ErrDuplicateHeader)
		}
	}
	return nil
}
