package settings

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// maxValueLen bounds the text of one Duration or Size value, so that a hostile or corrupt
// file cannot make parsing expensive.
const maxValueLen = 64

// durationUnits maps each accepted unit to its length in nanoseconds.
var durationUnits = map[string]uint64{
	"ns": uint64(time.Nanosecond),
	"us": uint64(time.Microsecond),
	"µs": uint64(time.Microsecond), // U+00B5, as time.Duration.String writes it
	"μs": uint64(time.Microsecond), // U+03BC
	"ms": uint64(time.Millisecond),
	"s":  uint64(time.Second),
	"m":  uint64(time.Minute),
	"h":  uint64(time.Hour),
	"d":  uint64(24 * time.Hour),
	"w":  uint64(7 * 24 * time.Hour),
}

var errDurationRange = errors.New("out of range")

// ParseDuration parses a config span: what time.ParseDuration accepts ("90s", "1h30m",
// "250ms"), plus the units d (24h) and w (7d): "30d", "1d12h", "2w". A bare 0 is zero.
// Like time.ParseDuration it keeps full precision for up to 9 fraction digits per component.
func ParseDuration(s string) (time.Duration, error) {
	if len(s) > maxValueLen {
		return 0, fmt.Errorf("invalid duration: longer than %d bytes", maxValueLen)
	}
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("invalid duration %q: want a number and a unit, such as 90s, 10m or 30d", orig)
	}
	var total uint64
	for s != "" {
		v, rest, err := durationComponent(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, err)
		}
		s = rest
		total += v
		if total > 1<<63 {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, errDurationRange)
		}
	}
	if neg {
		return -time.Duration(total), nil // total == 1<<63 wraps to math.MinInt64, as intended
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("invalid duration %q: %w", orig, errDurationRange)
	}
	return time.Duration(total), nil
}

// durationComponent parses one "number unit" at the start of s and returns its length in
// nanoseconds and the rest of s.
func durationComponent(s string) (ns uint64, rest string, err error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac = s[i+1 : j]
		i = j
	}
	if intPart == "" && frac == "" {
		return 0, "", errors.New("want a number before each unit")
	}
	j := i
	for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
		j++
	}
	unitName := s[i:j]
	if unitName == "" {
		return 0, "", errors.New("missing unit (one of ns, us, ms, s, m, h, d, w)")
	}
	unit, ok := durationUnits[unitName]
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q (want one of ns, us, ms, s, m, h, d, w)", unitName)
	}
	ns, err = scaleDecimal(intPart, frac, unit)
	return ns, s[j:], err
}

// scaleDecimal returns intPart.frac × unit, truncated to an integer.
func scaleDecimal(intPart, frac string, unit uint64) (uint64, error) {
	var v uint64
	if intPart != "" {
		n, err := strconv.ParseUint(intPart, 10, 64)
		if err != nil || n > (1<<63)/unit {
			return 0, errDurationRange
		}
		v = n * unit
	}
	// The fraction is scaled exactly with big integers; maxValueLen bounds its length.
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		f, _ := new(big.Int).SetString(frac, 10)
		f.Mul(f, new(big.Int).SetUint64(unit))
		f.Quo(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
		v += f.Uint64() // f < unit, so this cannot overflow past 2^63 + unit
	}
	if v > 1<<63 {
		return 0, errDurationRange
	}
	return v, nil
}

// FormatDuration writes d canonically: whole days as "d", then h, m and s, each only when not
// zero ("30d", "1d12h", "1m30s", "1h0.5s"); spans under a second as time.Duration.String writes
// them ("250ms"). ParseDuration reads every output back to the same value.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b []byte
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	if u < uint64(time.Second) {
		return string(b) + time.Duration(u).String()
	}
	for _, c := range []struct {
		unit uint64
		name byte
	}{{uint64(24 * time.Hour), 'd'}, {uint64(time.Hour), 'h'}, {uint64(time.Minute), 'm'}} {
		if n := u / c.unit; n > 0 {
			b = strconv.AppendUint(b, n, 10)
			b = append(b, c.name)
			u %= c.unit
		}
	}
	if u > 0 {
		b = strconv.AppendUint(b, u/uint64(time.Second), 10)
		if ns := u % uint64(time.Second); ns > 0 {
			b = append(b, '.')
			b = append(b, strings.TrimRight(fmt.Sprintf("%09d", ns), "0")...)
		}
		b = append(b, 's')
	}
	return string(b)
}

// sizeUnits lists every accepted unit; FormatSize picks among those with canonical set.
var sizeUnits = []struct {
	name      string
	bytes     int64
	canonical bool
}{
	{"B", 1, true},
	{"KB", 1e3, true},
	{"kB", 1e3, false},
	{"MB", 1e6, true},
	{"GB", 1e9, true},
	{"TB", 1e12, true},
	{"PB", 1e15, true},
	{"KiB", 1 << 10, true},
	{"MiB", 1 << 20, true},
	{"GiB", 1 << 30, true},
	{"TiB", 1 << 40, true},
	{"PiB", 1 << 50, true},
}

// ParseSize parses a byte count: a whole number of bytes ("512", "512B") or a number with a
// decimal (KB, MB, GB, TB, PB: powers of 1000) or binary (KiB, MiB, GiB, TiB, PiB: powers of
// 1024) unit, such as "64KiB", "1.5GiB" or "1TB". The result must be a whole number of bytes. Spaces between the number and the unit are allowed.
func ParseSize(s string) (int64, error) {
	if len(s) > maxValueLen {
		return 0, fmt.Errorf("invalid size: longer than %d bytes", maxValueLen)
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unitName := s[:i], strings.TrimLeft(s[i:], " ")
	if !ValidDecimal(num) {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes, optionally with a unit, such as 512, 64KiB or 1TB", s)
	}
	unit := int64(1)
	if unitName != "" {
		unit = 0
		for _, u := range sizeUnits {
			if u.name == unitName {
				unit = u.bytes
			}
		}
		if unit == 0 {
			return 0, fmt.Errorf("invalid size %q: unknown unit %q (want B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB)", s, unitName)
		}
	}
	r, _ := new(big.Rat).SetString(num)
	r.Mul(r, new(big.Rat).SetInt64(unit))
	if !r.IsInt() {
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("invalid size %q: out of range", s)
	}
	return r.Num().Int64(), nil
}

// ValidDecimal reports whether s is digits with at most one '.', and at least one digit.
func ValidDecimal(s string) bool {
	digits, dots := 0, 0
	for _, c := range []byte(s) {
		switch {
		case c == '.':
			dots++
		case c >= '0' && c <= '9':
			digits++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// FormatSize writes n with the canonical unit that divides it exactly and gives the smallest
// number ("16MiB", "1TB", "1500B", "0B"). ParseSize reads every output back to the same value.
func FormatSize(n int64) string {
	if n <= 0 {
		return strconv.FormatInt(n, 10) + "B"
	}
	best, bestQ := "B", n
	for _, u := range sizeUnits {
		if u.canonical && n%u.bytes == 0 && n/u.bytes < bestQ {
			best, bestQ = u.name, n/u.bytes
		}
	}
	return strconv.FormatInt(bestQ, 10) + best
}
