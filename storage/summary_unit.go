package storage

import "fmt"

// SummaryUnit is the length of a Summaries bucket: an hour or a day of a
// time zone.
type SummaryUnit uint8

const (
	// SummaryHour buckets start at each full hour of the time zone; every
	// one lasts an hour.
	SummaryHour SummaryUnit = iota + 1
	// SummaryDay buckets start at local midnight; a day with a daylight
	// saving change lasts 23 or 25 hours.
	SummaryDay
)

// String returns "hour" or "day".
func (u SummaryUnit) String() string {
	switch u {
	case SummaryHour:
		return "hour"
	case SummaryDay:
		return "day"
	}
	return fmt.Sprintf("SummaryUnit(%d)", uint8(u))
}
