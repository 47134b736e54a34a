package media

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/camvault/camvault/internal/settings"
)

// Default SDP limits (SEC-12).
const (
	// DefaultSDPMaxMedia is the default SDPLimits.MaxMedia.
	DefaultSDPMaxMedia = 8
	// DefaultSDPMaxAttrBytes is the default SDPLimits.MaxAttrBytes.
	DefaultSDPMaxAttrBytes = 4096
	// maxSDPLines bounds the lines of a description; the RTSP layer already bounds its bytes.
	maxSDPLines = 1024
)

// SDPLimits bounds what TracksFromSDP accepts from an untrusted description (SEC-12).
// Zero fields take defaults. The yaml tags are keys of camvault's ingest section (package
// settings); MaxParamSetBytes is the recorder's max_param_set_size, shared.
type SDPLimits struct {
	// MaxMedia bounds the number of m= sections. Defaults to DefaultSDPMaxMedia (8).
	MaxMedia int `yaml:"max_sdp_media"`
	// MaxAttrBytes bounds the length of one line in bytes, which bounds every attribute
	// and base64 parameter set. Defaults to DefaultSDPMaxAttrBytes (4096).
	MaxAttrBytes int `yaml:"max_sdp_line" unit:"bytes"`
	// MaxParamSetBytes bounds one decoded H.264/H.265 parameter set in bytes; longer ones
	// are ignored like unparsable ones (issue 9). Defaults to DefaultMaxParamSetBytes (2048).
	MaxParamSetBytes int `yaml:"-"`
}

// DefaultSDPLimits returns the default of every field.
func DefaultSDPLimits() SDPLimits { return SDPLimits{}.WithDefaults() }

// Validate checks the limits with a yaml tag, defaults applied, within the bounds an operator
// may set. Failures are *settings.FieldError. TracksFromSDP takes any positive limits.
func (l SDPLimits) Validate() error {
	var c settings.Check
	c.Count("max_sdp_media", l.MaxMedia, 1, 32)
	c.Bytes("max_sdp_line", int64(l.MaxAttrBytes), 256, 64<<10)
	return c.Err()
}

// WithDefaults returns l with zero fields replaced by the defaults.
func (l SDPLimits) WithDefaults() SDPLimits {
	if l.MaxMedia <= 0 {
		l.MaxMedia = DefaultSDPMaxMedia
	}
	if l.MaxAttrBytes <= 0 {
		l.MaxAttrBytes = DefaultSDPMaxAttrBytes
	}
	if l.MaxParamSetBytes <= 0 {
		l.MaxParamSetBytes = DefaultMaxParamSetBytes
	}
	return l
}

// TracksFromSDP parses an ANNOUNCE or DESCRIBE SDP body into tracks, in m= order.
//
// Media whose codec the package does not support are returned with Codec CodecUnknown; the
// caller decides. A body that is not SDP (no leading v= line, or no m= line) wraps
// ErrMalformedSDP. If none is supported the error wraps ErrNoSupportedMedia; if a limit is
// exceeded it wraps ErrSDPLimit. Tolerated quirks (SDP-08): LF line ends, missing or odd
// session lines (only m= and media-level a= lines are used), trailing blanks, upper- or
// mixed-case rtpmap encodings and fmtp names, fmtp before rtpmap, duplicate a=control (the
// first wins), static payload types 0, 8 and 26 without rtpmap, and Annex-B start codes
// inside sprop parameter sets. Parameter sets that do not parse, are longer than
// lim.MaxParamSetBytes or are out of the ranges camvault checks (see paramset.go; an H.265
// VPS with an extension is one) are ignored (they may still come in-band), not an error
// (PL-GEN-02). Parsing is bounded: it allocates in proportion to len(b).
func TracksFromSDP(b []byte, lim SDPLimits) ([]*Track, error) {
	lim = lim.WithDefaults()
	norm, err := normalizeSDP(b, lim)
	if err != nil {
		return nil, err
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(norm); err != nil {
		return nil, fmt.Errorf("tracks from sdp: %w", err)
	}
	tracks := make([]*Track, 0, len(sd.MediaDescriptions))
	supported := 0
	for _, md := range sd.MediaDescriptions {
		t := trackFromMedia(md, lim.MaxParamSetBytes)
		if t.Codec != CodecUnknown {
			supported++
		}
		tracks = append(tracks, t)
	}
	if supported == 0 {
		return nil, fmt.Errorf("tracks from sdp: %d media: %w", len(tracks), ErrNoSupportedMedia)
	}
	return tracks, nil
}

// sdpSessionHeader replaces whatever session part the publisher sent: only media matter here,
// and pion/sdp is strict about session lines that cameras get wrong.
const sdpSessionHeader = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"

// normalizeSDP checks the limits and rewrites b as a minimal session header followed by the
// m= lines and their a= lines, CRLF-terminated.
func normalizeSDP(b []byte, lim SDPLimits) ([]byte, error) {
	if first := bytes.TrimLeft(b, " \t\r\n"); !bytes.HasPrefix(first, []byte("v=")) {
		return nil, fmt.Errorf("tracks from sdp: first line is not v=: %w", ErrMalformedSDP)
	}
	out := make([]byte, 0, len(sdpSessionHeader)+len(b)+64)
	out = append(out, sdpSessionHeader...)
	media, lines := 0, 0
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimRight(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		if lines++; lines > maxSDPLines {
			return nil, fmt.Errorf("tracks from sdp: more than %d lines: %w", maxSDPLines, ErrSDPLimit)
		}
		if len(line) > lim.MaxAttrBytes {
			return nil, fmt.Errorf("tracks from sdp: line %d longer than %d bytes: %w", lines, lim.MaxAttrBytes, ErrSDPLimit)
		}
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		switch {
		case line[0] == 'm':
			if media++; media > lim.MaxMedia {
				return nil, fmt.Errorf("tracks from sdp: more than %d media: %w", lim.MaxMedia, ErrSDPLimit)
			}
		case line[0] != 'a' || media == 0:
			continue
		}
		out = append(out, line...)
		out = append(out, '\r', '\n')
	}
	if media == 0 {
		return nil, fmt.Errorf("tracks from sdp: no m= line: %w", ErrMalformedSDP)
	}
	return out, nil
}

// trackFromMedia builds the track of one m= section from its first supported format, or
// an unknown track from its first format.
func trackFromMedia(md *sdp.MediaDescription, maxParam int) *Track {
	var first *Track
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		t := trackForFormat(md, uint8(pt), f, maxParam)
		if first == nil {
			first = t
		}
		if t.Codec != CodecUnknown {
			first = t
			break
		}
	}
	if first == nil {
		first = &Track{}
	}
	first.Control, _ = mediaAttr(md, "control", "")
	return first
}

// mediaAttr returns the value of the first attribute named key (case-insensitive); with a
// non-empty pt, only of attributes whose value starts with that payload type, which is cut.
func mediaAttr(md *sdp.MediaDescription, key, pt string) (string, bool) {
	for _, a := range md.Attributes {
		if !strings.EqualFold(a.Key, key) {
			continue
		}
		v := strings.TrimSpace(a.Value)
		if pt == "" {
			return v, true
		}
		p, rest, _ := strings.Cut(v, " ")
		if p == pt {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// staticTracks are the static payload types used without rtpmap (RFC 3551 §6).
var staticTracks = map[uint8]Track{
	0:  {Codec: CodecPCMU, ClockRate: 8000, Channels: 1},
	8:  {Codec: CodecPCMA, ClockRate: 8000, Channels: 1},
	26: {Codec: CodecMJPEG, ClockRate: 90000},
}

// trackForFormat builds the track of payload type pt from its rtpmap and fmtp; parameter
// sets longer than maxParam bytes are ignored.
func trackForFormat(md *sdp.MediaDescription, pt uint8, f string, maxParam int) *Track {
	t := &Track{PayloadType: pt}
	rtpmap, ok := mediaAttr(md, "rtpmap", f)
	if !ok {
		if st, ok := staticTracks[pt]; ok {
			*t = st
			t.PayloadType = pt
		}
		return t
	}
	enc, clock, channels := parseRTPMap(rtpmap)
	t.ClockRate, t.Channels = clock, channels
	if clock == 0 {
		return t
	}
	fmtp, _ := mediaAttr(md, "fmtp", f)
	switch strings.ToLower(enc) {
	case "h264":
		t.Codec = CodecH264
		h264FromFMTP(t, fmtp, maxParam)
	case "h265":
		t.Codec = CodecH265
		h265FromFMTP(t, fmtp, maxParam)
	case "mpeg4-generic":
		t.Codec = CodecAAC
		aacFromFMTP(t, fmtp)
	case "opus":
		t.Codec, t.Channels = CodecOpus, 2 // PL-OPUS-01: always opus/48000/2
	case "pcmu":
		t.Codec = CodecPCMU
	case "pcma":
		t.Codec = CodecPCMA
	case "jpeg":
		t.Codec = CodecMJPEG
	}
	return t
}

// parseRTPMap parses "<encoding>/<clock rate>[/<channels>]" (SDP-03). Channels default to 1;
// a bad clock rate gives 0.
func parseRTPMap(v string) (enc string, clock uint32, channels uint16) {
	enc, rest, _ := strings.Cut(strings.TrimSpace(v), "/")
	clockStr, chStr, _ := strings.Cut(rest, "/")
	c, err := strconv.ParseUint(strings.TrimSpace(clockStr), 10, 32)
	if err != nil {
		c = 0
	}
	channels = 1
	if ch, err := strconv.ParseUint(strings.TrimSpace(chStr), 10, 16); err == nil && ch > 0 {
		channels = uint16(ch)
	}
	return strings.TrimSpace(enc), uint32(c), channels
}

// fmtpParams yields the lower-cased names and values of "k=v; k=v" (SDP-04).
func fmtpParams(s string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for part := range strings.SplitSeq(s, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "" {
				continue
			}
			if !yield(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)) {
				return
			}
		}
	}
}

// h264FromFMTP takes SPS and PPS from sprop-parameter-sets (PL-H264-01, PL-H264-08).
func h264FromFMTP(t *Track, fmtp string, maxParam int) {
	for k, v := range fmtpParams(fmtp) {
		if k != "sprop-parameter-sets" {
			continue
		}
		for b64 := range strings.SplitSeq(v, ",") {
			for nal := range annexBUnits(decodeBase64(b64)) {
				switch nal[0] & 0x1F {
				case h264NALSPS:
					setSDPH264SPS(t, nal, maxParam)
				case h264NALPPS:
					if t.PPS == nil && len(nal) > 1 {
						t.PPS = bytes.Clone(nal)
					}
				}
			}
		}
	}
	validateH264PPS(t, maxParam)
}

// setSDPH264SPS keeps the first SPS that parses, with its picture size.
func setSDPH264SPS(t *Track, nal []byte, maxParam int) {
	if t.SPS != nil {
		return
	}
	if sps := parseH264SPS(nal, maxParam); sps != nil {
		t.SPS, t.Width, t.Height = bytes.Clone(nal), int(sps.Width), int(sps.Height)
	}
}

// validateH264PPS drops the PPS unless it parses against the SPS (PL-GEN-02).
func validateH264PPS(t *Track, maxParam int) {
	if t.SPS == nil || t.PPS == nil {
		return
	}
	if sps := parseH264SPS(t.SPS, maxParam); sps == nil || !validH264PPS(t.PPS, sps, maxParam) {
		t.PPS = nil
	}
}

// h265FromFMTP takes the parameter sets from sprop-vps/sps/pps and notes DONL use
// (PL-H265-01, PL-H265-04).
func h265FromFMTP(t *Track, fmtp string, maxParam int) {
	for k, v := range fmtpParams(fmtp) {
		var want byte
		var dst *[]byte
		switch k {
		case "sprop-vps":
			want, dst = h265NALVPS, &t.VPS
		case "sprop-sps":
			want, dst = h265NALSPS, &t.SPS
		case "sprop-pps":
			want, dst = h265NALPPS, &t.PPS
		case "sprop-max-don-diff":
			n, err := strconv.Atoi(v)
			t.donl = err != nil || n > 0
			continue
		default:
			continue
		}
		for b64 := range strings.SplitSeq(v, ",") {
			for nal := range annexBUnits(decodeBase64(b64)) {
				if *dst == nil && len(nal) > 2 && h265Type(nal[0]) == want {
					*dst = bytes.Clone(nal)
				}
			}
		}
	}
	validateH265Params(t, maxParam)
}

// validateH265Params drops parameter sets that fail the bounded checks of paramset.go or
// that mp4ff cannot parse (PL-GEN-02), and takes the picture size from the SPS.
func validateH265Params(t *Track, maxParam int) {
	if t.VPS != nil && !validH265VPS(t.VPS, maxParam) {
		t.VPS = nil
	}
	if t.SPS == nil {
		t.PPS = nil
		return
	}
	sps, ok := checkH265SPS(t.SPS, maxParam)
	if !ok {
		t.SPS, t.PPS = nil, nil
		return
	}
	t.Width, t.Height = sps.width, sps.height
	if t.PPS != nil && !validH265PPS(t.PPS, sps.id, maxParam) {
		t.PPS = nil
	}
}

// aacFromFMTP reads config and the AU-header layout (PL-AAC-01, PL-AAC-06). Layout defaults
// follow mode: AAC-hbr 13/3/3, AAC-lbr 6/2/2.
func aacFromFMTP(t *Track, fmtp string) {
	t.SizeLength, t.IndexLength, t.IndexDeltaLength = 13, 3, 3
	var size, index, delta = -1, -1, -1
	for k, v := range fmtpParams(fmtp) {
		switch k {
		case "config":
			if c, err := hex.DecodeString(v); err == nil && len(c) >= 2 {
				t.AudioConfig = c
			}
		case "mode":
			if strings.EqualFold(v, "AAC-lbr") {
				t.SizeLength, t.IndexLength, t.IndexDeltaLength = 6, 2, 2
			}
		case "sizelength":
			size = atoiOr(v, -1)
		case "indexlength":
			index = atoiOr(v, -1)
		case "indexdeltalength":
			delta = atoiOr(v, -1)
		}
	}
	for _, f := range []struct {
		v   int
		dst *int
	}{{size, &t.SizeLength}, {index, &t.IndexLength}, {delta, &t.IndexDeltaLength}} {
		if f.v >= 0 {
			*f.dst = f.v
		}
	}
	if t.AudioConfig != nil && t.Channels <= 1 {
		r := bitReader{b: t.AudioConfig}
		_ = readAOT(&r)
		_ = readAACRate(&r)
		if ch := r.read(4); !r.err && ch > 1 && ch < 8 {
			t.Channels = uint16(ch)
		}
	}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// decodeBase64 decodes a base64 parameter set, with or without padding; nil if invalid.
func decodeBase64(s string) []byte {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil
	}
	return b
}

// annexBUnits yields the non-empty NAL units of b, which may or may not hold start codes.
func annexBUnits(b []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			var nal []byte
			nal, b = nextAnnexB(b)
			if len(nal) > 0 && !yield(nal) {
				return
			}
		}
	}
}
