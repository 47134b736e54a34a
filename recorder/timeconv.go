package recorder

import "time"

// nsToTicks converts nanoseconds to clock ticks without overflowing for
// spans of years (ns*clock would overflow int64 after ~1 day at 90 kHz).
func nsToTicks(ns, clock int64) int64 {
	sec, rem := ns/1e9, ns%1e9
	return sec*clock + rem*clock/1e9
}

// ticksToNS converts clock ticks to nanoseconds.
func ticksToNS(ticks, clock int64) int64 {
	sec, rem := ticks/clock, ticks%clock
	return sec*1e9 + rem*1e9/clock
}

func unixNS(t time.Time) int64 { return t.UnixNano() }

func absDur(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}
