package liveview

import (
	"encoding/binary"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// syncTolerance bounds how far a track's sender report may put it from
// where its arrival time puts it on the view's timeline; beyond it the
// report is taken as wrong (a camera clock set apart per track) and
// arrival time places the track.
const syncTolerance = 2 * time.Second

// origin is decode time 0 of the view: the first unit sent, by its
// sender-report wall clock (zero when its track had no report) and its
// arrival.
type origin struct {
	set     bool
	wall    time.Time
	arrival time.Time
}

// clock maps one track's RTP timestamps to decode times on the view's
// timeline.
type clock struct {
	rate uint32

	// The track's latest RTCP sender report: wall clock srWall is RTP
	// time srRTP.
	sr     bool
	srRTP  uint32
	srWall time.Time

	// ext is the last timestamp extended to 64 bits (last is its low 32).
	extSet bool
	last   uint32
	ext    int64

	based   bool  // base is set: decode time = extended timestamp - base
	base    int64 // ticks
	haveDTS bool
	lastDTS int64
}

// senderReport takes an RTCP packet of the track: when it starts with a
// sender report (RFC 3550 §6.4.1), its NTP and RTP times.
func (c *clock) senderReport(b []byte) {
	if len(b) < 20 || b[0]>>6 != 2 || b[1] != 200 {
		return
	}
	c.sr = true
	c.srWall = fmp4.NTPToTime(binary.BigEndian.Uint64(b[8:]))
	c.srRTP = binary.BigEndian.Uint32(b[16:])
}

// extend returns ts extended to 64 bits, following wrap-arounds.
func (c *clock) extend(ts uint32) int64 {
	if !c.extSet {
		c.extSet, c.ext = true, int64(ts)
	} else {
		c.ext += int64(int32(ts - c.last))
	}
	c.last = ts
	return c.ext
}

// wallOf returns the sender-report wall clock of RTP time ts.
func (c *clock) wallOf(ts uint32) time.Time {
	return c.srWall.Add(time.Duration(int64(int32(ts-c.srRTP)) * int64(time.Second) / int64(c.rate)))
}

// times returns the decode time and composition offset of a unit with
// presentation time pts that arrived at now, placing the track on the
// timeline o with its first unit (o's first unit if o is not set yet). ok
// is false for a unit presented before the timeline starts, which is not
// sent. Decode times increase by at least one tick (see the package
// comment on B-frames).
func (c *clock) times(pts uint32, now time.Time, o *origin) (dts int64, cto int32, ok bool) {
	e := c.extend(pts)
	if !c.based {
		c.based = true
		c.base = e
		if !o.set {
			*o = origin{set: true, arrival: now}
			if c.sr {
				o.wall = c.wallOf(pts)
			}
		} else {
			c.base = e - c.ticks(c.offset(pts, now, o))
		}
	}
	rel := e - c.base
	if rel < 0 {
		return 0, 0, false
	}
	dts = rel
	if c.haveDTS && dts <= c.lastDTS {
		dts = c.lastDTS + 1
	}
	c.haveDTS, c.lastDTS = true, dts
	return dts, int32(rel - dts), true
}

// offset returns where on the timeline o the unit at pts that arrived at
// now belongs: by the sender reports when both this track and the origin's
// have one that agrees with arrival within syncTolerance, else by arrival.
func (c *clock) offset(pts uint32, now time.Time, o *origin) time.Duration {
	byArrival := now.Sub(o.arrival)
	if !c.sr || o.wall.IsZero() {
		return byArrival
	}
	byReport := c.wallOf(pts).Sub(o.wall)
	if d := byReport - byArrival; d > syncTolerance || d < -syncTolerance {
		return byArrival
	}
	return byReport
}

// ticks converts d to ticks of the clock rate, rounded to the nearest.
func (c *clock) ticks(d time.Duration) int64 {
	n, half := int64(d)*int64(c.rate), int64(time.Second/2)
	if n < 0 {
		half = -half
	}
	return (n + half) / int64(time.Second)
}
