package media

import "github.com/pion/rtp"

// g711Depacketizer emits each RTP payload as one G.711 unit, one byte per sample and
// channel (RFC 3551 §4.5.14, PL-G711-01).
type g711Depacketizer struct {
	channels int
	maxUnit  int
	emit     func(Unit)
}

func newG711Depacketizer(t *Track, lim Limits, emit func(Unit)) *g711Depacketizer {
	return &g711Depacketizer{channels: max(int(t.Channels), 1), maxUnit: lim.MaxUnitBytes, emit: emit}
}

// Reset implements Depacketizer; G.711 keeps no state between packets.
func (d *g711Depacketizer) Reset() {}

// Push implements Depacketizer. Data aliases the packet payload and Duration is the number
// of samples per channel, since the clock ticks once per sample.
func (d *g711Depacketizer) Push(pkt *rtp.Packet) error {
	p := pkt.Payload
	if len(p) == 0 {
		return nil // PL-GEN-05
	}
	if len(p) > d.maxUnit {
		return ErrUnitTooLarge
	}
	if len(p)%d.channels != 0 {
		return ErrMalformedPacket
	}
	d.emit(Unit{PTS: pkt.Timestamp, Data: p, Key: true, Duration: uint32(len(p) / d.channels)})
	return nil
}
