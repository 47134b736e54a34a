package bench

import (
	"slices"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// defaultTick groups packets so that a session makes one write per tick:
// 20 ms takes a video frame and the audio due with it. A camera sends one
// write per access unit instead (tick 0).
const defaultTick = 20 * time.Millisecond

// schedule is a clip's packets grouped by send time, prepared once and
// shared read-only by every bench session: per batch the interleaved frames
// (TCP) and the same packets as datagrams (UDP), so that sending costs one
// write per batch and nothing else.
type schedule struct {
	clip    *Clip
	sdp     []byte
	batches []batch
}

// batch is the packets due at one send time.
type batch struct {
	at time.Duration
	// interleaved holds the packets as interleaved frames back to back,
	// stream i on channel 2i.
	interleaved []byte
	datagrams   [][]byte // the RTP packets, for UDP
	streams     []int    // stream index of each datagram
}

// newSchedule groups the packets of c by send tick; with tick 0 each access
// unit is one batch.
func newSchedule(c *Clip, tick time.Duration) (*schedule, error) {
	s := &schedule{clip: c, sdp: c.SDP()}
	for _, p := range c.Packets {
		at := p.At.Truncate(tick) // tick <= 0 keeps At
		if len(s.batches) == 0 || s.batches[len(s.batches)-1].at != at {
			s.batches = append(s.batches, batch{at: at})
		}
		b := &s.batches[len(s.batches)-1]
		f := base.InterleavedFrame{Channel: uint8(2 * p.Stream), Payload: p.Data}
		n := len(b.interleaved)
		b.interleaved = slices.Grow(b.interleaved, f.MarshalSize())[:n+f.MarshalSize()]
		if _, err := f.MarshalTo(b.interleaved[n:]); err != nil {
			return nil, err
		}
		b.datagrams = append(b.datagrams, p.Data)
		b.streams = append(b.streams, p.Stream)
	}
	return s, nil
}
