package media

import "github.com/pion/rtp"

// Opus timing at the RTP clock of 48 kHz (PL-OPUS-01).
const (
	opusTicksPerMs     = 48
	opusMaxPacketTicks = 120 * opusTicksPerMs // RFC 6716 §3.2.5: at most 120 ms per packet
)

// opusFrameTicks is the frame duration in 48 kHz ticks of each TOC configuration
// (RFC 6716 §3.1, Table 2): SILK 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
var opusFrameTicks = [32]uint32{
	480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880, // SILK NB/MB/WB
	480, 960, 480, 960, // Hybrid SWB/FB
	120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, // CELT
}

// opusDepacketizer emits each RTP payload as one Opus packet (RFC 7587 §4, PL-OPUS-02).
type opusDepacketizer struct {
	maxUnit int
	emit    func(Unit)
}

// Reset implements Depacketizer; Opus keeps no state between packets.
func (d *opusDepacketizer) Reset() {}

// Push implements Depacketizer. Data aliases the packet payload.
func (d *opusDepacketizer) Push(pkt *rtp.Packet) error {
	p := pkt.Payload
	if len(p) == 0 {
		return nil // PL-GEN-05
	}
	if len(p) > d.maxUnit {
		return ErrUnitTooLarge
	}
	dur, ok := opusDuration(p)
	if !ok {
		return ErrMalformedPacket
	}
	d.emit(Unit{PTS: pkt.Timestamp, Data: p, Key: true, Duration: dur})
	return nil
}

// opusDuration returns the packet duration in 48 kHz ticks from its TOC byte
// (RFC 6716 §3.1): |config(5)|s(1)|c(2)| where c gives 1, 2, 2 or (byte 1 & 0x3F) frames.
func opusDuration(p []byte) (uint32, bool) {
	frames := uint32(1)
	switch p[0] & 0x03 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, false
		}
		frames = uint32(p[1] & 0x3F)
	}
	d := frames * opusFrameTicks[p[0]>>3]
	if d == 0 || d > opusMaxPacketTicks {
		return 0, false
	}
	return d, true
}
