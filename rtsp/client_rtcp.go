package rtsp

import (
	"encoding/binary"
	"fmt"
	"time"
)

// RTCP packet types [3550 §12.1].
const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

// receiverStats are the reception statistics of one stream, kept as in
// RFC 3550 A.1, A.3 and A.8 (RTCP-03, RTCP-04).
type receiverStats struct {
	started         bool
	ssrc            uint32
	baseSeq, maxSeq uint16
	cycles          uint32 // count of sequence wraps, times 2^16
	received        uint32
	expectedPrior   uint32
	receivedPrior   uint32
	epoch           time.Time // origin of arrival times in clock units
	transit         int64
	jitter          float64
	lastSR          uint32    // middle 32 bits of the last SR's NTP time
	lastSRAt        time.Time // arrival of that SR
}

// update accounts one RTP packet that arrived at now.
func (s *receiverStats) update(pkt []byte, now time.Time, clockRate uint32) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return
	}
	seq := binary.BigEndian.Uint16(pkt[2:])
	ts := binary.BigEndian.Uint32(pkt[4:])
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	if !s.started || ssrc != s.ssrc { // first packet or new source (RTP-04)
		*s = receiverStats{started: true, ssrc: ssrc, baseSeq: seq, maxSeq: seq, epoch: now}
	} else if d := seq - s.maxSeq; d != 0 && d < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	}
	s.received++
	arrival := int64(now.Sub(s.epoch) * time.Duration(clockRate) / time.Second)
	transit := arrival - int64(ts)
	if s.received > 1 {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit = transit
}

// onSR records the LSR of a sender report.
func (s *receiverStats) onSR(pkt []byte, now time.Time) {
	for len(pkt) >= 4 {
		n := (int(binary.BigEndian.Uint16(pkt[2:])) + 1) * 4
		if n > len(pkt) {
			return
		}
		if pkt[1] == rtcpSR && n >= 20 {
			s.lastSR, s.lastSRAt = binary.BigEndian.Uint32(pkt[10:]), now
		}
		pkt = pkt[n:]
	}
}

// appendBlock appends the report block of s [3550 §6.4.1] and advances
// the interval counters.
func (s *receiverStats) appendBlock(b []byte, now time.Time) []byte {
	extMax := s.cycles + uint32(s.maxSeq)
	expected := extMax - uint32(s.baseSeq) + 1
	lost := min(max(int64(expected)-int64(s.received), -0x800000), 0x7fffff)
	expInt, recvInt := expected-s.expectedPrior, s.received-s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint32
	if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
		fraction = uint32(lostInt<<8) / expInt
	}
	var dlsr uint32
	if s.lastSR != 0 {
		dlsr = uint32(now.Sub(s.lastSRAt) * 65536 / time.Second)
	}
	b = binary.BigEndian.AppendUint32(b, s.ssrc)
	b = binary.BigEndian.AppendUint32(b, fraction<<24|uint32(lost)&0xffffff)
	b = binary.BigEndian.AppendUint32(b, extMax)
	b = binary.BigEndian.AppendUint32(b, uint32(s.jitter))
	b = binary.BigEndian.AppendUint32(b, s.lastSR)
	return binary.BigEndian.AppendUint32(b, dlsr)
}

// receiverReport builds an RR (with one block once RTP arrived) followed by
// an SDES CNAME, the compound packet of RTCP-03:
//
//	|V=2|P|RC|  PT=201 |  length  | SSRC of sender | report block (24 bytes)
//	|V=2|P|SC=1|PT=202 |  length  | SSRC | CNAME=1 | len | text | 0-pad
func receiverReport(s *receiverStats, ssrc uint32, cname string, now time.Time) []byte {
	b := make([]byte, 0, 64+len(cname))
	rc := byte(0)
	if s.started {
		rc = 1
	}
	b = append(b, 0x80|rc, rtcpRR)
	b = binary.BigEndian.AppendUint16(b, uint16(1+6*int(rc)))
	b = binary.BigEndian.AppendUint32(b, ssrc)
	if s.started {
		b = s.appendBlock(b, now)
	}
	chunk := 4 + 2 + len(cname)
	pad := 4 - chunk%4 // at least one zero terminates the item list
	b = append(b, 0x81, rtcpSDES)
	b = binary.BigEndian.AppendUint16(b, uint16((chunk+pad)/4))
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, 1, byte(len(cname)))
	b = append(b, cname...)
	return append(b, make([]byte, pad)...)
}

// onRTP accounts and delivers one RTP packet of stream i that arrived at
// now.
func (c *Client) onRTP(i int, pkt []byte, now time.Time) {
	c.mu.Lock()
	c.streams[i].stats.update(pkt, now, c.streams[i].clockRate)
	c.rx.Packets++
	c.rx.Bytes += uint64(len(pkt))
	c.rx.LastPacket = now
	c.mu.Unlock()
	if c.cfg.OnRTP != nil {
		c.cfg.OnRTP(i, pkt)
	}
}

// onRTCP accounts and delivers one RTCP packet of stream i that arrived
// at now. It returns an error wrapping ErrBye when the packet holds a BYE
// for the stream's sender (any source before RTP arrived): the camera
// ended the stream, and the session ends with it.
func (c *Client) onRTCP(i int, pkt []byte, now time.Time) error {
	c.mu.Lock()
	st := &c.streams[i].stats
	st.onSR(pkt, now)
	bye := byeFor(pkt, st.ssrc, !st.started)
	c.mu.Unlock()
	if c.cfg.OnRTCP != nil {
		c.cfg.OnRTCP(i, pkt)
	}
	if bye {
		return fmt.Errorf("stream %d: %w", i, ErrBye)
	}
	return nil
}

// byeFor reports whether the compound RTCP packet pkt holds a BYE
// [3550 §6.6] that names ssrc (any source when anySource). It reads only
// whole packets inside pkt and stops at the first malformed one:
//
//	|V=2|P|  SC   | PT=203 |    length     |
//	|          SSRC/CSRC (SC times)         |
//	| optional reason: length, text         |
func byeFor(pkt []byte, ssrc uint32, anySource bool) bool {
	for len(pkt) >= 4 && pkt[0]>>6 == 2 {
		n := (int(binary.BigEndian.Uint16(pkt[2:])) + 1) * 4
		if n > len(pkt) {
			return false
		}
		if pkt[1] == rtcpBYE {
			for k := range int(pkt[0] & 0x1f) {
				off := 4 + 4*k
				if off+4 > n {
					break
				}
				if anySource || binary.BigEndian.Uint32(pkt[off:]) == ssrc {
					return true
				}
			}
		}
		pkt = pkt[n:]
	}
	return false
}
