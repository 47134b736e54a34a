package recorder

import (
	"context"
	"log/slog"
	"time"
)

// warnInterval is the least time between two lines of one kind of
// per-packet or per-unit warning of one recording.
const warnInterval = time.Minute

// warnKind names a warning that input can repeat at packet rate.
type warnKind uint8

const (
	warnForeignSSRC   warnKind = iota // packets of another source dropped
	warnSSRCSwitch                    // the source restarted with a new SSRC
	warnSeqResync                     // the sequence number jumped and resynced
	warnTimestampJump                 // a unit's timestamp jumped
	warnClockAhead                    // media time ran ahead of the server clock
	warnClockDrift                    // media time and server clock drifted apart
	warnSenderReport                  // an RTCP sender report disagreed with the server clock
	warnArchiveAhead                  // the archive reaches past the server clock
	warnQueueFull                     // the write queue was full; a fragment was dropped
	warnBackpressure                  // the write queue was full; the source was held back
	numWarnKinds
)

// warnLimit lets one line of a kind through per warnInterval and counts
// the others, which the next line reports as "suppressed".
type warnLimit struct {
	next       int64 // Unix ns before which lines are suppressed
	suppressed uint64
}

// warn logs msg at Warn level unless a line of the same kind went out less
// than warnInterval ago; rec.mu must be held. It reads the clock, so it is
// for abnormal events only, never the honest per-packet path.
func (rec *Recording) warn(kind warnKind, msg string, attrs ...slog.Attr) {
	l := &rec.warns[kind]
	now := unixNS(rec.r.cfg.Now())
	if now < l.next {
		l.suppressed++
		return
	}
	l.next = now + int64(warnInterval)
	if l.suppressed > 0 {
		attrs = append(attrs, slog.Uint64("suppressed", l.suppressed))
		l.suppressed = 0
	}
	rec.log.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}
