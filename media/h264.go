package media

import "github.com/pion/rtp"

// H.264 NAL unit and RTP packet types (RFC 6184 §5.2, H.264 Table 7-1).
const (
	h264NALIDR    = 5
	h264NALSPS    = 7
	h264NALPPS    = 8
	h264NALAUD    = 9
	h264NALFiller = 12
	h264STAPA     = 24
	h264STAPB     = 25
	h264MTAP16    = 26
	h264MTAP24    = 27
	h264FUA       = 28
	h264FUB       = 29
)

// h264Depacketizer reassembles H.264 access units from RTP (RFC 6184, packetization modes
// 0 and 1: single NAL unit, STAP-A, FU-A), PL-H264-02..08.
type h264Depacketizer struct {
	track    *Track
	emit     func(Unit)
	au       accessUnit
	scratch  []byte // a completed FU-A NAL unit that must leave the AU buffer
	maxParam int    // Limits.MaxParamSetBytes
}

func newH264Depacketizer(t *Track, lim Limits, emit func(Unit)) *h264Depacketizer {
	return &h264Depacketizer{track: t, emit: emit, au: newAccessUnit(lim), maxParam: lim.MaxParamSetBytes}
}

// Reset implements Depacketizer.
func (d *h264Depacketizer) Reset() { d.au.reset() }

// Push implements Depacketizer; framing is shared with the other video
// depacketizers (accessUnit.push).
func (d *h264Depacketizer) Push(pkt *rtp.Packet) error { return d.au.push(pkt, d.emit, d.payload) }

// payload dispatches on the payload's NAL unit type.
//
//	+---------------+
//	|0|1|2|3|4|5|6|7|
//	+-+-+-+-+-+-+-+-+
//	|F|NRI|  Type   |
//	+---------------+
func (d *h264Depacketizer) payload(p []byte, pts uint32) error {
	if len(p) == 0 {
		return nil // PL-GEN-05
	}
	typ := p[0] & 0x1F
	var err error
	if typ != h264FUA && d.au.dropFrag() {
		err = ErrFragmentLost
	}
	var e error
	switch typ {
	case h264STAPA:
		e = d.stapA(p[1:], pts)
	case h264FUA:
		e = d.fuA(p)
	case h264STAPB, h264MTAP16, h264MTAP24, h264FUB:
		e = ErrUnsupportedPacket
	default:
		e = d.nal(p, pts)
	}
	if e != nil {
		return e
	}
	return err
}

// stapA splits a STAP-A (RFC 6184 §5.7.1): repeated 16-bit size and NAL unit.
// A zero size followed by zero bytes only is padding (PL-H264-04).
func (d *h264Depacketizer) stapA(p []byte, pts uint32) error {
	if len(p) == 0 {
		return ErrMalformedPacket
	}
	for len(p) > 0 {
		if len(p) < 2 {
			return ErrMalformedPacket
		}
		n := int(p[0])<<8 | int(p[1])
		if n == 0 && allZero(p) {
			return nil
		}
		if n == 0 || n > len(p)-2 {
			return ErrMalformedPacket
		}
		if err := d.nal(p[2:2+n], pts); err != nil {
			return err
		}
		p = p[2+n:]
	}
	return nil
}

// fuA reassembles an FU-A (RFC 6184 §5.8). S and E set together is accepted (PL-H264-05).
//
//	FU indicator |F|NRI| 28 |   FU header |S|E|R| Type |
func (d *h264Depacketizer) fuA(p []byte) error {
	if len(p) < 2 {
		return ErrMalformedPacket
	}
	start, end := p[1]&0x80 != 0, p[1]&0x40 != 0
	var lost error
	if start {
		if d.au.dropFrag() {
			lost = ErrFragmentLost
		}
		if err := d.au.startFrag(p[0]&0xE0 | p[1]&0x1F); err != nil {
			return err
		}
	} else if d.au.frag < 0 {
		return ErrFragmentLost // joined mid-NAL or lost the start
	}
	if err := d.au.appendFrag(p[2:]); err != nil {
		return err
	}
	if end {
		if err := d.fragDone(); err != nil {
			return err
		}
	}
	return lost
}

// fragDone handles a completed FU-A NAL unit. Slices stay where they are; anything that
// must leave the AU (parameter sets, AUD, filler, Annex-B wrapped units) moves to scratch.
func (d *h264Depacketizer) fragDone() error {
	nal, off := d.au.endFrag()
	typ := nal[0] & 0x1F
	if h264Kept(typ) && !hasStartCode(nal) {
		d.au.commit(off, typ == h264NALIDR)
		return nil
	}
	d.scratch = append(d.scratch[:0], nal...)
	d.au.truncate(off)
	return d.nal(d.scratch, d.au.pts)
}

// h264Kept reports whether a NAL unit of type typ goes into the MP4 sample.
func h264Kept(typ byte) bool {
	switch typ {
	case 0, h264NALSPS, h264NALPPS, h264NALAUD, h264NALFiller:
		return false
	}
	return typ < h264STAPA
}

// nal handles one complete NAL unit that is not in the AU buffer, splitting Annex-B
// wrapped units first (PL-H264-06).
func (d *h264Depacketizer) nal(nal []byte, pts uint32) error {
	if !hasStartCode(nal) {
		return d.nalUnit(nal, pts)
	}
	for len(nal) > 0 {
		var one []byte
		one, nal = nextAnnexB(nal)
		if err := d.nalUnit(one, pts); err != nil {
			return err
		}
	}
	return nil
}

// nalUnit stores parameter sets in the track, drops AUD and filler and appends the rest.
func (d *h264Depacketizer) nalUnit(nal []byte, pts uint32) error {
	if len(nal) == 0 {
		return nil
	}
	switch typ := nal[0] & 0x1F; typ {
	case h264NALSPS:
		d.setSPS(nal)
	case h264NALPPS:
		if len(nal) > 1 && len(nal) <= d.maxParam && setParam(&d.track.PPS, nal) {
			d.au.paramsChanged = true
		}
	case h264NALAUD:
		// An AUD starts a new AU (PL-H264-06): close what came before it.
		if d.au.nalus > 0 {
			err := d.au.end(d.emit)
			d.au.begin(pts)
			return err
		}
	default:
		if h264Kept(typ) {
			return d.au.add(nal, typ == h264NALIDR)
		}
	}
	return nil
}

// setSPS keeps an in-band SPS that differs from the track's; in-band wins over SDP
// (PL-H264-08). An SPS longer than Limits.MaxParamSetBytes or that mp4ff cannot parse is
// ignored (PL-GEN-02). An unchanged SPS is not parsed again, so the steady state does not
// allocate.
func (d *h264Depacketizer) setSPS(nal []byte) {
	if string(nal) == string(d.track.SPS) {
		return
	}
	sps := parseH264SPS(nal, d.maxParam)
	if sps == nil {
		return
	}
	setParam(&d.track.SPS, nal)
	d.track.Width, d.track.Height = int(sps.Width), int(sps.Height)
	d.au.paramsChanged = true
}

// allZero reports whether p holds zero bytes only.
func allZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}
