package fmp4

import "time"

// ntpEpochOffset is the seconds from 1900-01-01 to 1970-01-01.
const ntpEpochOffset = 2208988800

// NTPTime converts t to a 64-bit NTP timestamp (seconds since 1900 in the
// high 32 bits, binary fraction in the low 32). The fraction is rounded up,
// so that NTPToTime gives back exactly t's nanosecond: the files alone
// then rebuild the very times the index had.
func NTPTime(t time.Time) uint64 {
	ns := t.UnixNano()
	sec := uint64(ns/1e9 + ntpEpochOffset)
	frac := ((uint64(ns%1e9) << 32) + 1e9 - 1) / 1e9
	return sec<<32 | frac
}

// NTPToTime converts a 64-bit NTP timestamp to a time.
func NTPToTime(ntp uint64) time.Time {
	sec := int64(ntp>>32) - ntpEpochOffset
	ns := int64(((ntp & 0xffffffff) * 1e9) >> 32)
	return time.Unix(sec, ns).UTC()
}
