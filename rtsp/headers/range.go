package headers

import (
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// RangeUnit is the unit of a Range header [2326 §3.5–3.7].
type RangeUnit uint8

// Range units. The zero value is invalid.
const (
	RangeNPT         RangeUnit = iota + 1 // npt: seconds from the presentation start
	RangeClock                            // clock: absolute UTC
	RangeSMPTE                            // smpte: SMPTE 29.97 drop-frame timecode
	RangeSMPTE30Drop                      // smpte-30-drop
	RangeSMPTE25                          // smpte-25
)

var rangeUnitNames = [...]string{"", "npt", "clock", "smpte", "smpte-30-drop", "smpte-25"}

// String returns the unit as written on the wire.
func (u RangeUnit) String() string {
	if int(u) < len(rangeUnitNames) && u != 0 {
		return rangeUnitNames[u]
	}
	return "unknown"
}

// maxFrames returns the highest frame number of a timecode unit.
func (u RangeUnit) maxFrames() int {
	if u == RangeSMPTE25 {
		return 24
	}
	return 29
}

// RangePoint is one end of a range. Which fields count depends on the unit.
type RangePoint struct {
	// Now is npt "now" (live).
	Now bool
	// Offset is the npt time, or the h:m:s part of an SMPTE timecode.
	Offset time.Duration
	// Frames and Subframes complete an SMPTE timecode (subframes are in
	// 1/100 frame).
	Frames, Subframes int
	// Clock is the absolute time of a clock range, in UTC.
	Clock time.Time
}

// Range is the Range header [2326 §12.29]. Start or End is nil for an
// open end; at least one is set, and SMPTE ranges always have a Start.
// Ranges are half-open [Start, End) (RTSP-RNG-04).
type Range struct {
	// Unit selects which RangePoint fields count.
	Unit RangeUnit
	// Start is the first instant, nil for an open start.
	Start *RangePoint
	// End is the end (excluded), nil for an open end.
	End *RangePoint
	// Time is the ";time=" scheduled start, zero when absent (RTSP-RNG-08).
	Time time.Time
}

// maxNPT bounds npt values; it keeps any offset far from Duration overflow.
const maxNPT = 1_000_000_000 * time.Second

// Unmarshal parses a Range header value. Only the first range spec counts;
// blanks inside it are ignored and a comma is accepted as decimal separator
// (RTSP-RNG-03). An unknown unit returns an error wrapping ErrRangeUnit
// (answer 501, RTSP-RNG-02); other errors are syntax errors (400).
func (r *Range) Unmarshal(v string) error {
	parts := strings.Split(v, ";")
	spec := strings.Map(dropBlank, parts[0])
	unitName, val, ok := strings.Cut(spec, "=")
	if !ok {
		return malformed("range without unit")
	}
	*r = Range{Unit: parseRangeUnit(unitName)}
	if r.Unit == 0 {
		return base.NewError(base.StatusNotImplemented, "range unit", ErrRangeUnit)
	}
	if err := r.parseBounds(val); err != nil {
		return err
	}
	return r.parseParams(parts[1:])
}

func dropBlank(c rune) rune {
	if c == ' ' || c == '\t' {
		return -1
	}
	return c
}

func parseRangeUnit(s string) RangeUnit {
	for i, n := range rangeUnitNames {
		if i > 0 && strings.EqualFold(s, n) {
			return RangeUnit(i)
		}
	}
	return 0
}

func (r *Range) parseBounds(val string) error {
	a, b, ok := strings.Cut(val, "-")
	if !ok || (a == "" && b == "") {
		return malformed("bad range")
	}
	var err error
	if a != "" {
		if r.Start, err = r.parsePoint(a); err != nil {
			return err
		}
	} else if r.Unit != RangeNPT && r.Unit != RangeClock {
		return malformed("smpte range needs a start")
	}
	if b != "" {
		r.End, err = r.parsePoint(b)
	}
	return err
}

func (r *Range) parsePoint(s string) (*RangePoint, error) {
	switch r.Unit {
	case RangeNPT:
		return parseNPT(s)
	case RangeClock:
		t, err := parseClock(s)
		if err != nil {
			return nil, err
		}
		return &RangePoint{Clock: t}, nil
	default:
		return parseSMPTE(s, r.Unit.maxFrames())
	}
}

func (r *Range) parseParams(params []string) error {
	for _, p := range params {
		k, v, _ := strings.Cut(strings.Map(dropBlank, p), "=")
		if !strings.EqualFold(k, "time") {
			continue
		}
		t, err := parseClock(v)
		if err != nil {
			return err
		}
		r.Time = t
	}
	return nil
}

// Marshal returns the canonical wire form: npt in seconds with at least
// three decimals, clock as YYYYMMDDThhmmss[.f]Z, SMPTE as h:mm:ss[:ff[.ss]]
// (RTSP-RNG-03). It returns "" for a Range with no unit.
func (r *Range) Marshal() string {
	if r.Unit == 0 || int(r.Unit) >= len(rangeUnitNames) {
		return ""
	}
	s := r.Unit.String() + "=" + r.formatPoint(r.Start) + "-" + r.formatPoint(r.End)
	if !r.Time.IsZero() {
		s += ";time=" + formatClock(r.Time)
	}
	return s
}

func (r *Range) formatPoint(p *RangePoint) string {
	if p == nil {
		return ""
	}
	switch r.Unit {
	case RangeNPT:
		return formatNPT(p)
	case RangeClock:
		return formatClock(p.Clock)
	default:
		return formatSMPTE(p)
	}
}
