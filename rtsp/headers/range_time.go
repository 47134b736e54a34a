package headers

import (
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// parseNPT parses npt-time: "now", seconds[.frac] or h:mm:ss[.frac]
// [2326 §3.6]; hours need no leading zero, a comma may replace the dot.
func parseNPT(s string) (*RangePoint, error) {
	if strings.EqualFold(s, "now") {
		return &RangePoint{Now: true}, nil
	}
	s = strings.Replace(s, ",", ".", 1)
	whole, frac, _ := strings.Cut(s, ".")
	fracDur, err := parseFraction(frac, false)
	if err != nil {
		return nil, err
	}
	secs, err := parseNPTWhole(whole)
	if err != nil {
		return nil, err
	}
	if secs >= int64(maxNPT/time.Second) { // checked before multiplying: no overflow
		return nil, malformed("npt too large")
	}
	return &RangePoint{Offset: time.Duration(secs)*time.Second + fracDur}, nil
}

// parseNPTWhole parses "S" or "H:MM:SS" into seconds.
func parseNPTWhole(s string) (int64, error) {
	f := strings.Split(s, ":")
	switch len(f) {
	case 1:
		return parseDigits(f[0], 10)
	case 3:
		h, err1 := parseDigits(f[0], 6)
		m, err2 := parseDigits(f[1], 2)
		sec, err3 := parseDigits(f[2], 2)
		if err1 != nil || err2 != nil || err3 != nil || m > 59 || sec > 59 {
			return 0, malformed("bad npt time")
		}
		return h*3600 + m*60 + sec, nil
	}
	return 0, malformed("bad npt time")
}

// parseDigits parses 1 to maxLen decimal digits.
func parseDigits(s string, maxLen int) (int64, error) {
	if len(s) > maxLen || !lex.AllDigits(s) {
		return 0, malformed("bad number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, malformed("bad number")
	}
	return n, nil
}

// parseFraction turns the digits after a decimal point into a duration,
// truncated to nanoseconds. With strict, 1 to 9 digits are required.
func parseFraction(frac string, strict bool) (time.Duration, error) {
	if strict && (frac == "" || len(frac) > 9) {
		return 0, malformed("bad fraction")
	}
	if len(frac) > 32 || (frac != "" && !lex.AllDigits(frac)) {
		return 0, malformed("bad fraction")
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	return time.Duration(ns), nil
}

// formatNPT writes seconds with at least three decimals, more when the
// value needs them, so that output re-parses to the same value.
func formatNPT(p *RangePoint) string {
	if p.Now {
		return "now"
	}
	secs := int64(p.Offset / time.Second)
	ns := int64(p.Offset % time.Second)
	frac := strconv.FormatInt(ns+1e9, 10)[1:]
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 3 {
		frac += "0"
	}
	return strconv.FormatInt(secs, 10) + "." + frac
}

// parseClock parses utc-time YYYYMMDDThhmm[ss][.f]Z; fractions of 1 to 9
// digits, missing seconds and a missing Z are accepted (RTSP-RNG-03).
func parseClock(s string) (time.Time, error) {
	s = strings.TrimSuffix(s, "Z")
	date, clock, ok := strings.Cut(s, "T")
	if !ok || len(date) != 8 || !lex.AllDigits(date) {
		return time.Time{}, malformed("bad clock date")
	}
	clock, frac, hasFrac := strings.Cut(clock, ".")
	if (len(clock) != 6 && len(clock) != 4) || !lex.AllDigits(clock) || (hasFrac && len(clock) != 6) {
		return time.Time{}, malformed("bad clock time")
	}
	var fd time.Duration
	if hasFrac {
		var err error
		if fd, err = parseFraction(frac, true); err != nil {
			return time.Time{}, err
		}
	}
	return buildClock(date, clock, fd)
}

func buildClock(date, clock string, frac time.Duration) (time.Time, error) {
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	y, mo, d := n(date[:4]), n(date[4:6]), n(date[6:8])
	h, mi, sec := n(clock[:2]), n(clock[2:4]), 0
	if len(clock) == 6 {
		sec = n(clock[4:6])
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, int(frac), time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, malformed("clock out of range")
	}
	return t, nil
}

// formatClock writes YYYYMMDDThhmmss[.f]Z with the shortest fraction.
func formatClock(t time.Time) string {
	t = t.UTC()
	s := t.Format("20060102T150405")
	if ns := t.Nanosecond(); ns != 0 {
		s += "." + strings.TrimRight(strconv.Itoa(ns + 1e9)[1:], "0")
	}
	return s + "Z"
}

// parseSMPTE parses h:m:s[:frames][.subframes] [2326 §3.5].
func parseSMPTE(s string, maxFrames int) (*RangePoint, error) {
	main, sub, hasSub := strings.Cut(s, ".")
	f := strings.Split(main, ":")
	if len(f) != 3 && len(f) != 4 {
		return nil, malformed("bad smpte time")
	}
	var v [4]int64
	for i, p := range f {
		n, err := parseDigits(p, 2)
		if err != nil {
			return nil, err
		}
		v[i] = n
	}
	if v[1] > 59 || v[2] > 59 || v[3] > int64(maxFrames) {
		return nil, malformed("smpte field out of range")
	}
	p := &RangePoint{Offset: time.Duration(v[0]*3600+v[1]*60+v[2]) * time.Second, Frames: int(v[3])}
	if hasSub {
		n, err := parseDigits(sub, 2)
		if err != nil {
			return nil, err
		}
		p.Subframes = int(n)
	}
	return p, nil
}

func formatSMPTE(p *RangePoint) string {
	secs := int64(p.Offset / time.Second)
	s := strconv.FormatInt(secs/3600, 10) + ":" + two(secs/60%60) + ":" + two(secs%60)
	if p.Frames != 0 || p.Subframes != 0 {
		s += ":" + two(int64(p.Frames))
	}
	if p.Subframes != 0 {
		s += "." + two(int64(p.Subframes))
	}
	return s
}

func two(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
