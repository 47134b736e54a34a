package rtsp

import (
	"sync"
	"time"
)

// logEvery lets one log line of a kind through per interval and counts the
// lines it held back, so that a flood of bad input costs a counter, not a
// log line each (STYLE "Logging": rate-limit repeated warnings).
type logEvery struct {
	interval time.Duration

	mu         sync.Mutex // guards the fields below
	last       time.Time  // when the latest line went through
	suppressed int        // lines held back since then
}

// allow reports whether a line may be logged at now and how many were
// held back before it.
func (l *logEvery) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		return false, 0
	}
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return true, suppressed
}
