package media

import "github.com/pion/rtp"

// H.265 NAL unit and RTP packet types (RFC 7798 §4.4, H.265 Table 7-1).
const (
	h265IRAPFirst = 16
	h265IRAPLast  = 23
	h265NALVPS    = 32
	h265NALSPS    = 33
	h265NALPPS    = 34
	h265NALAUD    = 35
	h265NALFD     = 38
	h265AP        = 48
	h265FU        = 49
	h265PACI      = 50
)

// h265Depacketizer reassembles H.265 access units from RTP (RFC 7798: single NAL unit,
// AP, FU; no DONL, no PACI), PL-H265-01..05.
type h265Depacketizer struct {
	track    *Track
	emit     func(Unit)
	au       accessUnit
	scratch  []byte
	maxParam int // Limits.MaxParamSetBytes
}

func newH265Depacketizer(t *Track, lim Limits, emit func(Unit)) *h265Depacketizer {
	return &h265Depacketizer{track: t, emit: emit, au: newAccessUnit(lim), maxParam: lim.MaxParamSetBytes}
}

// Reset implements Depacketizer.
func (d *h265Depacketizer) Reset() { d.au.reset() }

// Push implements Depacketizer; framing is shared with the other video
// depacketizers (accessUnit.push).
func (d *h265Depacketizer) Push(pkt *rtp.Packet) error { return d.au.push(pkt, d.emit, d.payload) }

// h265Type returns the NAL unit type of a two-byte header |F| Type(6) | LayerId(6) | TID(3)|.
func h265Type(b0 byte) byte { return b0 >> 1 & 0x3F }

// payload dispatches on the payload header's type.
func (d *h265Depacketizer) payload(p []byte, pts uint32) error {
	if len(p) == 0 {
		return nil // PL-GEN-05
	}
	if len(p) < 2 {
		return ErrMalformedPacket
	}
	typ := h265Type(p[0])
	var err error
	if typ != h265FU && d.au.dropFrag() {
		err = ErrFragmentLost
	}
	var e error
	switch {
	case typ == h265AP:
		e = d.ap(p[2:], pts)
	case typ == h265FU:
		e = d.fu(p)
	case typ == h265PACI:
		e = ErrUnsupportedPacket
	default:
		e = d.nal(p, pts)
	}
	if e != nil {
		return e
	}
	return err
}

// ap splits an aggregation packet (RFC 7798 §4.4.2) without DONL/DOND fields.
func (d *h265Depacketizer) ap(p []byte, pts uint32) error {
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
		if n < 2 || n > len(p)-2 {
			return ErrMalformedPacket
		}
		if err := d.nal(p[2:2+n], pts); err != nil {
			return err
		}
		p = p[2+n:]
	}
	return nil
}

// fu reassembles a fragmentation unit (RFC 7798 §4.4.3), PL-H265-03:
//
//	payload header (type 49) | FU header |S|E| FuType(6)| | data
func (d *h265Depacketizer) fu(p []byte) error {
	if len(p) < 3 {
		return ErrMalformedPacket
	}
	start, end := p[2]&0x80 != 0, p[2]&0x40 != 0
	var lost error
	if start {
		if d.au.dropFrag() {
			lost = ErrFragmentLost
		}
		if err := d.au.startFrag(p[0]&0x81|(p[2]&0x3F)<<1, p[1]); err != nil {
			return err
		}
	} else if d.au.frag < 0 {
		return ErrFragmentLost
	}
	if err := d.au.appendFrag(p[3:]); err != nil {
		return err
	}
	if end {
		if err := d.fragDone(); err != nil {
			return err
		}
	}
	return lost
}

// fragDone handles a completed FU NAL unit (see h264Depacketizer.fragDone).
func (d *h265Depacketizer) fragDone() error {
	nal, off := d.au.endFrag()
	typ := h265Type(nal[0])
	if h265Kept(typ) && !hasStartCode(nal) {
		d.au.commit(off, h265Key(typ))
		return nil
	}
	d.scratch = append(d.scratch[:0], nal...)
	d.au.truncate(off)
	return d.nal(d.scratch, d.au.pts)
}

// h265Kept reports whether a NAL unit of type typ goes into the MP4 sample.
func h265Kept(typ byte) bool {
	switch typ {
	case h265NALVPS, h265NALSPS, h265NALPPS, h265NALAUD, h265NALFD:
		return false
	}
	return typ < h265AP
}

// h265Key reports whether typ is an IRAP picture (types 16-23), PL-H265-05.
func h265Key(typ byte) bool { return typ >= h265IRAPFirst && typ <= h265IRAPLast }

// nal handles one complete NAL unit that is not in the AU buffer, splitting Annex-B
// wrapped units first.
func (d *h265Depacketizer) nal(nal []byte, pts uint32) error {
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
func (d *h265Depacketizer) nalUnit(nal []byte, pts uint32) error {
	if len(nal) < 2 {
		return nil
	}
	switch typ := h265Type(nal[0]); typ {
	case h265NALVPS:
		d.setVPS(nal)
	case h265NALSPS:
		d.setSPS(nal)
	case h265NALPPS:
		if len(nal) > 2 && len(nal) <= d.maxParam && setParam(&d.track.PPS, nal) {
			d.au.paramsChanged = true
		}
	case h265NALAUD:
		if d.au.nalus > 0 {
			err := d.au.end(d.emit)
			d.au.begin(pts)
			return err
		}
	default:
		if h265Kept(typ) {
			return d.au.add(nal, h265Key(typ))
		}
	}
	return nil
}

// setVPS keeps an in-band VPS that differs from the track's and passes validH265VPS (issue
// 9: a VPS with an extension is refused). An unchanged VPS is not checked again.
func (d *h265Depacketizer) setVPS(nal []byte) {
	if string(nal) == string(d.track.VPS) || !validH265VPS(nal, d.maxParam) {
		return
	}
	setParam(&d.track.VPS, nal)
	d.au.paramsChanged = true
}

// setSPS keeps an in-band SPS that differs from the track's and passes checkH265SPS.
// An unchanged SPS is not parsed again, so the steady state does not allocate.
func (d *h265Depacketizer) setSPS(nal []byte) {
	if string(nal) == string(d.track.SPS) {
		return
	}
	sps, ok := checkH265SPS(nal, d.maxParam)
	if !ok {
		return
	}
	setParam(&d.track.SPS, nal)
	d.track.Width, d.track.Height = sps.width, sps.height
	d.au.paramsChanged = true
}
