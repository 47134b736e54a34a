package headers

import (
	"mime"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// maxDecimalLen bounds a Scale or Speed value; it keeps every accepted
// value far from overflow.
const maxDecimalLen = 24

// parseDecimal parses [-]1*DIGIT ["." *DIGIT], at most 10 integer digits.
func parseDecimal(v string, signed bool) (float64, error) {
	s := strings.TrimSpace(v)
	if len(s) > maxDecimalLen {
		return 0, malformed("number too long")
	}
	body := s
	if signed && strings.HasPrefix(body, "-") {
		body = body[1:]
	}
	whole, frac, _ := strings.Cut(body, ".")
	if whole == "" || len(whole) > 10 || !lex.AllDigits(whole) || (frac != "" && !lex.AllDigits(frac)) {
		return 0, malformed("bad number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, malformed("bad number")
	}
	return f, nil
}

// ParseScale parses a Scale value [2326 §12.34]: [-]1*DIGIT ["." *DIGIT].
// Zero is refused (RTSP-RNG-13).
func ParseScale(v string) (float64, error) {
	f, err := parseDecimal(v, true)
	if err != nil {
		return 0, err
	}
	if f == 0 {
		return 0, malformed("scale 0")
	}
	return f, nil
}

// ParseSpeed parses a Speed value [2326 §12.35]: 1*DIGIT ["." *DIGIT],
// greater than zero (RTSP-RNG-14).
func ParseSpeed(v string) (float64, error) {
	f, err := parseDecimal(v, false)
	if err != nil {
		return 0, err
	}
	if f == 0 {
		return 0, malformed("speed 0")
	}
	return f, nil
}

// FormatDecimal writes a Scale or Speed value with at least one decimal
// ("2.0", "-1.0", "0.5"), as the ONVIF examples do.
func FormatDecimal(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// ParseYesNo parses the yes|no value of Rate-Control (ONVIF-06) and
// Immediate (ONVIF-08), in any case.
func ParseYesNo(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, malformed("expected yes or no")
}

// ParseFrames parses the ONVIF Frames header (ONVIF-07): "all",
// "predicted", "intra" or "intra/<ms>", in any case. It returns the value
// in lower case; an interval with anything but intra is refused.
func ParseFrames(v string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	kind, interval, hasInterval := strings.Cut(s, "/")
	switch kind {
	case "all", "predicted", "intra":
	default:
		return "", malformed("bad frames value")
	}
	if hasInterval && (kind != "intra" || len(interval) > 10 || !lex.AllDigits(interval)) {
		return "", malformed("bad frames interval")
	}
	return s, nil
}

// AcceptsSDP reports whether the Accept headers allow application/sdp
// (RTSP-M-06): no Accept header, or a media range application/sdp,
// application/* or */* without q=0.
func AcceptsSDP(h base.Header) bool {
	values := h.Values("Accept")
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if acceptItemSDP(item) {
				return true
			}
		}
	}
	return false
}

func acceptItemSDP(item string) bool {
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
	if err != nil {
		return false
	}
	if q, ok := params["q"]; ok {
		if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
			return false
		}
	}
	return mt == "application/sdp" || mt == "application/*" || mt == "*/*"
}
