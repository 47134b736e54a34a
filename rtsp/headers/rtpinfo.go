package headers

import (
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// RTPInfoEntry is one stream of an RTP-Info header [2326 §12.33].
type RTPInfoEntry struct {
	// URL is the stream URL; it must not contain ';', ',' or blanks
	// (RTSP-RNG-11).
	URL string
	// Seq is the sequence number of the first packet after PLAY; nil if absent.
	Seq *uint16
	// RTPTime is the RTP timestamp at the Range start; nil if absent.
	RTPTime *uint32
	// SSRC is the RTSP 2.0 ssrc parameter; nil if absent.
	SSRC *uint32
}

// RTPInfo is the RTP-Info header: one entry per set-up stream, in SETUP
// order (RTSP-RNG-10).
type RTPInfo []RTPInfoEntry

// maxRTPInfoEntries bounds the entries parsed from one header.
const maxRTPInfoEntries = 64

// Unmarshal parses an RTP-Info value. Entries are split at commas followed
// by "url="; quoted RTSP 2.0 URLs are unquoted. A URL containing ';', ','
// or blanks is refused: RTSP 1.0 cannot carry it unambiguously
// (RTSP-RNG-11).
func (ri *RTPInfo) Unmarshal(v string) error {
	var out RTPInfo
	for _, raw := range splitRTPInfo(v) {
		if len(out) == maxRTPInfoEntries {
			return malformed("too many rtp-info entries")
		}
		var e RTPInfoEntry
		if err := e.unmarshal(raw); err != nil {
			return err
		}
		out = append(out, e)
	}
	*ri = out
	return nil
}

func splitRTPInfo(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] != ',' {
			continue
		}
		rest := strings.TrimLeft(v[i+1:], " \t")
		if len(rest) >= 4 && strings.EqualFold(rest[:4], "url=") {
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

func (e *RTPInfoEntry) unmarshal(s string) error {
	s = strings.TrimSpace(s)
	if len(s) < 4 || !strings.EqualFold(s[:4], "url=") {
		return malformed("rtp-info entry without url")
	}
	rest := s[4:]
	if strings.HasPrefix(rest, `"`) {
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return malformed("unterminated rtp-info url")
		}
		e.URL, rest = rest[1:end+1], rest[end+2:]
	} else {
		e.URL, rest, _ = strings.Cut(rest, ";")
		rest = ";" + rest
	}
	if e.URL == "" || strings.ContainsAny(e.URL, " \t;,\"") || lex.HasCTL([]byte(e.URL)) {
		return malformed("bad rtp-info url")
	}
	return e.parseParams(rest)
}

func (e *RTPInfoEntry) parseParams(rest string) error {
	for _, p := range strings.FieldsFunc(rest, func(r rune) bool { return r == ';' }) {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		v = strings.TrimSpace(v)
		var err error
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "seq":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 16)
			s := uint16(n)
			e.Seq = &s
		case "rtptime":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			t := uint32(n)
			e.RTPTime = &t
		case "ssrc":
			e.SSRC, err = parseSSRC(v)
		}
		if err != nil {
			return malformed("bad rtp-info " + strings.ToLower(k))
		}
	}
	return nil
}

// Marshal returns the RTSP 1.0 form: unquoted URLs, entries joined by ",".
func (ri RTPInfo) Marshal() string {
	parts := make([]string, len(ri))
	for i, e := range ri {
		s := "url=" + e.URL
		if e.Seq != nil {
			s += ";seq=" + strconv.FormatUint(uint64(*e.Seq), 10)
		}
		if e.RTPTime != nil {
			s += ";rtptime=" + strconv.FormatUint(uint64(*e.RTPTime), 10)
		}
		if e.SSRC != nil {
			s += ";ssrc=" + strings.ToUpper(strconv.FormatUint(uint64(*e.SSRC)|1<<32, 16)[1:])
		}
		parts[i] = s
	}
	return strings.Join(parts, ",")
}
