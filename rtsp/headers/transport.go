package headers

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// LowerTransport is the lower transport of a Transport spec.
type LowerTransport uint8

// Lower transports. UDP is the default when the profile has no suffix.
const (
	LowerUDP LowerTransport = iota
	LowerTCP
)

// String returns "UDP" or "TCP".
func (l LowerTransport) String() string {
	if l == LowerTCP {
		return "TCP"
	}
	return "UDP"
}

// TransportMode is the mode parameter of a Transport spec.
type TransportMode uint8

// Transport modes. ModeUnset means the parameter was absent, which means
// PLAY [2326 §12.39].
const (
	ModeUnset TransportMode = iota
	ModePlay
	ModeRecord
)

// String returns the mode as written on the wire ("play", "record") or "".
func (m TransportMode) String() string {
	switch m {
	case ModePlay:
		return "play"
	case ModeRecord:
		return "record"
	}
	return ""
}

// PortPair is an RTP/RTCP pair of ports or interleaved channels. RTCP equal
// to RTP means RTCP is multiplexed on the RTP port (RTSP-TR-03).
type PortPair struct {
	RTP  int // RTP port or channel
	RTCP int // RTCP port or channel
}

// Transport is one transport spec of a Transport header [2326 §12.39].
// Pointer fields are nil when the parameter is absent; unknown parameters
// are dropped (RTSP-TR-01).
type Transport struct {
	// Profile is the upper-cased profile: "RTP/AVP", "RTP/SAVP", "RTP/AVPF"...
	Profile string
	// Lower is the lower transport; UDP unless the profile says /TCP.
	Lower LowerTransport
	// Multicast is the delivery. When neither unicast nor multicast is
	// given it is true only if port=, ttl= or a multicast destination is
	// present: a spec with client_port or /TCP is unicast (RTSP-TR-04).
	Multicast bool
	// Destination is the destination parameter; the server ignores it for
	// unicast (RTSP-TR-09, SEC-05).
	Destination string
	// Source is the source parameter.
	Source string
	// Interleaved is the TCP channel pair (0-255).
	Interleaved *PortPair
	// ClientPort is the client's RTP/RTCP port pair.
	ClientPort *PortPair
	// ServerPort is the server's RTP/RTCP port pair.
	ServerPort *PortPair
	// Port is the multicast port pair.
	Port *PortPair
	// TTL is the multicast time to live (0-255).
	TTL *int
	// SSRC is the first SSRC given (RTSP-TR-05: short and blank-prefixed
	// values are accepted, lists keep the first).
	SSRC *uint32
	// Mode is play, record (also "receive") or unset.
	Mode TransportMode
	// Append is the append flag of RECORD.
	Append bool
}

// Transports is the list of specs of a Transport header, in client order
// of preference (RTSP-M-14).
type Transports []Transport

// maxTransportSpecs bounds the specs parsed from one header.
const maxTransportSpecs = 16

// Unmarshal parses a Transport header value (a comma-separated list).
func (ts *Transports) Unmarshal(v string) error {
	specs := splitOutsideQuotes(v, ',')
	if len(specs) > maxTransportSpecs {
		return malformed("too many transport specs")
	}
	out := make(Transports, 0, len(specs))
	for _, s := range specs {
		var t Transport
		if err := t.Unmarshal(s); err != nil {
			return err
		}
		out = append(out, t)
	}
	*ts = out
	return nil
}

// Marshal returns the comma-separated wire form of the list.
func (ts Transports) Marshal() string {
	parts := make([]string, len(ts))
	for i := range ts {
		parts[i] = ts[i].Marshal()
	}
	return strings.Join(parts, ",")
}

// Unmarshal parses one transport spec.
func (t *Transport) Unmarshal(v string) error {
	params := splitOutsideQuotes(v, ';')
	*t = Transport{}
	if err := t.parseProfile(strings.TrimSpace(params[0])); err != nil {
		return err
	}
	var delivery string
	for _, p := range params[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		if k == "unicast" || k == "multicast" {
			delivery = k
			continue
		}
		if err := t.parseParam(k, val); err != nil {
			return err
		}
	}
	t.Multicast = t.deliveryMulticast(delivery)
	return nil
}

func (t *Transport) parseProfile(p string) error {
	parts := strings.Split(strings.ToUpper(p), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || !lex.IsToken(parts[0]) || !lex.IsToken(parts[1]) {
		return malformed("bad transport profile")
	}
	t.Profile = parts[0] + "/" + parts[1]
	if len(parts) == 3 {
		switch parts[2] {
		case "UDP":
		case "TCP":
			t.Lower = LowerTCP
		default:
			return malformed("bad lower transport")
		}
	}
	return nil
}

func (t *Transport) parseParam(k, v string) error {
	var err error
	switch k {
	case "destination":
		t.Destination, err = checkAddrParam(v)
	case "source":
		t.Source, err = checkAddrParam(v)
	case "interleaved":
		t.Interleaved, err = parsePair(v, 255)
	case "client_port":
		t.ClientPort, err = parsePair(v, 65535)
	case "server_port":
		t.ServerPort, err = parsePair(v, 65535)
	case "port":
		t.Port, err = parsePair(v, 65535)
	case "ttl":
		t.TTL, err = parseTTL(v)
	case "ssrc":
		t.SSRC, err = parseSSRC(v)
	case "mode":
		t.Mode, err = parseMode(v)
	case "append":
		t.Append = true
	}
	return err
}

func (t *Transport) deliveryMulticast(keyword string) bool {
	switch keyword {
	case "unicast":
		return false
	case "multicast":
		return true
	}
	if t.Lower == LowerTCP || t.ClientPort != nil {
		return false
	}
	if a, err := netip.ParseAddr(t.Destination); err == nil && a.IsMulticast() {
		return true
	}
	return t.Port != nil || t.TTL != nil
}

// checkAddrParam accepts a host or address without blanks, quotes or
// control characters.
func checkAddrParam(v string) (string, error) {
	if v == "" {
		return "", nil // bare "destination" [2326 §12.39]
	}
	if len(v) > 255 || strings.ContainsAny(v, " \t\",;") || lex.HasCTL([]byte(v)) {
		return "", malformed("bad transport address")
	}
	return v, nil
}

// parsePair parses "N" or "N-M" with both values in [0, max]. A single
// value N means N, N+1 (RTSP-TR-03).
func parsePair(v string, max int) (*PortPair, error) {
	a, b, two := strings.Cut(v, "-")
	lo, err := parseBounded(strings.TrimSpace(a), max)
	if err != nil {
		return nil, err
	}
	if !two {
		if lo+1 > max {
			return nil, malformed("port pair out of range")
		}
		return &PortPair{RTP: lo, RTCP: lo + 1}, nil
	}
	hi, err := parseBounded(strings.TrimSpace(b), max)
	if err != nil {
		return nil, err
	}
	return &PortPair{RTP: lo, RTCP: hi}, nil
}

func parseBounded(s string, max int) (int, error) {
	if !lex.AllDigits(s) || len(s) > 6 {
		return 0, malformed("bad number")
	}
	n, _ := strconv.Atoi(s)
	if n > max {
		return 0, malformed("number out of range")
	}
	return n, nil
}

func parseTTL(v string) (*int, error) {
	n, err := parseBounded(v, 255)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func parseSSRC(v string) (*uint32, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(v), "/")
	if first == "" || len(first) > 8 {
		return nil, malformed("bad ssrc")
	}
	n, err := strconv.ParseUint(first, 16, 32)
	if err != nil {
		return nil, malformed("bad ssrc")
	}
	s := uint32(n)
	return &s, nil
}

// parseMode accepts play, record and receive (= record, RTSP-TR-02), in
// any case; of a quoted list the first element counts.
func parseMode(v string) (TransportMode, error) {
	first, _, _ := strings.Cut(v, ",")
	switch strings.ToLower(strings.TrimSpace(first)) {
	case "play":
		return ModePlay, nil
	case "record", "receive":
		return ModeRecord, nil
	}
	return ModeUnset, malformed("bad transport mode")
}

// Marshal returns the canonical wire form: no blanks, delivery always
// explicit (RTSP-TR-07), UDP written as the bare profile.
func (t *Transport) Marshal() string {
	var b strings.Builder
	b.WriteString(t.Profile)
	if t.Lower == LowerTCP {
		b.WriteString("/TCP")
	}
	if t.Multicast {
		b.WriteString(";multicast")
	} else {
		b.WriteString(";unicast")
	}
	writeStr := func(k, v string) {
		if v != "" {
			b.WriteString(";" + k + "=" + v)
		}
	}
	writeStr("destination", t.Destination)
	writeStr("source", t.Source)
	writePair(&b, "interleaved", t.Interleaved)
	writePair(&b, "client_port", t.ClientPort)
	writePair(&b, "server_port", t.ServerPort)
	writePair(&b, "port", t.Port)
	if t.TTL != nil {
		writeStr("ttl", strconv.Itoa(*t.TTL))
	}
	if t.SSRC != nil {
		writeStr("ssrc", strings.ToUpper(strconv.FormatUint(uint64(*t.SSRC)|1<<32, 16)[1:]))
	}
	writeStr("mode", t.Mode.String())
	if t.Append {
		b.WriteString(";append")
	}
	return b.String()
}

func writePair(b *strings.Builder, k string, p *PortPair) {
	if p == nil {
		return
	}
	b.WriteString(";" + k + "=" + strconv.Itoa(p.RTP) + "-" + strconv.Itoa(p.RTCP))
}

// splitOutsideQuotes splits s at sep, ignoring separators inside double quotes.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
