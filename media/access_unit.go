package media

import (
	"bytes"
	"encoding/binary"

	"github.com/pion/rtp"
)

// accessUnit assembles the NAL units of one H.264/H.265 access unit as 4-byte
// length-prefixed NAL units (AVCC/HVCC sample format) in one reused buffer.
//
// Layout of buf.b while a fragmented NAL unit is in progress:
//
//	| len | NAL | len | NAL | ... | 0000 (reserved) | NAL header | fragments ... |
//	                              ^ frag
type accessUnit struct {
	buf      unitBuffer
	maxNALUs int
	nalus    int    // committed NAL units in buf
	pts      uint32 // RTP timestamp of the AU, valid when active
	active   bool   // a packet of this AU has been seen
	key      bool   // the AU holds an IDR/IRAP picture
	dropping bool   // the AU broke a limit: discard its packets until it ends
	frag     int    // offset of the fragmented NAL unit's length prefix, -1 if none

	// paramsChanged is set when the track's parameters changed; it is reported on, and
	// cleared by, the next emitted unit.
	paramsChanged bool
}

func newAccessUnit(lim Limits) accessUnit {
	return accessUnit{buf: unitBuffer{max: lim.MaxUnitBytes}, maxNALUs: lim.MaxNALUs, frag: -1}
}

// begin starts an AU at pts unless one is already active.
func (a *accessUnit) begin(pts uint32) {
	if !a.active {
		a.active, a.pts = true, pts
	}
}

// fail marks the AU as dropped and returns err; the AU's remaining packets are discarded.
func (a *accessUnit) fail(err error) error {
	a.dropping = true
	a.frag = -1
	a.buf.b = a.buf.b[:0]
	return err
}

// add appends one complete NAL unit.
func (a *accessUnit) add(nal []byte, key bool) error {
	if a.nalus >= a.maxNALUs {
		return a.fail(ErrTooManyNALUs)
	}
	var prefix [4]byte
	binary.BigEndian.PutUint32(prefix[:], uint32(len(nal)))
	if !a.buf.grow(4+len(nal)) || !a.buf.append(prefix[:]...) || !a.buf.append(nal...) {
		return a.fail(ErrUnitTooLarge)
	}
	a.nalus++
	a.key = a.key || key
	return nil
}

// startFrag starts a fragmented NAL unit whose rebuilt header is hdr.
func (a *accessUnit) startFrag(hdr ...byte) error {
	if a.nalus >= a.maxNALUs {
		return a.fail(ErrTooManyNALUs)
	}
	off := len(a.buf.b)
	if !a.buf.append(0, 0, 0, 0) || !a.buf.append(hdr...) {
		return a.fail(ErrUnitTooLarge)
	}
	a.frag = off
	return nil
}

// appendFrag appends fragment data to the NAL unit in progress.
func (a *accessUnit) appendFrag(p []byte) error {
	if !a.buf.append(p...) {
		return a.fail(ErrUnitTooLarge)
	}
	return nil
}

// endFrag returns the completed fragmented NAL unit, still in buf, and its prefix offset.
func (a *accessUnit) endFrag() (nal []byte, off int) {
	off, a.frag = a.frag, -1
	return a.buf.b[off+4:], off
}

// commit keeps the NAL unit at off, completed by endFrag, in the AU.
func (a *accessUnit) commit(off int, key bool) {
	binary.BigEndian.PutUint32(a.buf.b[off:], uint32(len(a.buf.b)-off-4))
	a.nalus++
	a.key = a.key || key
}

// truncate removes everything from off on (a NAL unit in progress or just completed).
func (a *accessUnit) truncate(off int) {
	a.buf.b = a.buf.b[:off]
}

// dropFrag discards a fragmented NAL unit in progress and reports whether there was one.
func (a *accessUnit) dropFrag() bool {
	if a.frag < 0 {
		return false
	}
	a.truncate(a.frag)
	a.frag = -1
	return true
}

// end closes the AU: it emits the AU when it holds NAL units and was not dropped, then
// resets. A fragment still in progress is lost (ErrFragmentLost).
func (a *accessUnit) end(emit func(Unit)) error {
	var err error
	if a.dropFrag() {
		err = ErrFragmentLost
	}
	if !a.dropping && a.nalus > 0 {
		emit(Unit{PTS: a.pts, Data: a.buf.b, Key: a.key, ParamsChanged: a.paramsChanged})
		a.paramsChanged = false
	}
	a.reset()
	return err
}

// reset discards the AU but keeps a pending paramsChanged.
func (a *accessUnit) reset() {
	a.buf.b = a.buf.b[:0]
	a.nalus, a.active, a.key, a.dropping, a.frag = 0, false, false, false, -1
}

// startCode is the three-byte Annex-B start code; a four-byte one ends with it.
var startCode = []byte{0, 0, 1}

// hasStartCode reports whether nal holds an Annex-B start code, which cameras sometimes
// wrap NAL units in inside RTP (PL-H264-06). 00 00 01 cannot occur inside a NAL unit
// because of emulation prevention.
func hasStartCode(nal []byte) bool {
	return bytes.Index(nal, startCode) >= 0
}

// nextAnnexB splits b at its next start code: nal is the bytes before it without trailing
// zero bytes (which covers the leading zero of a four-byte start code), rest the bytes after.
// With no start code left, nal is b and rest is nil.
func nextAnnexB(b []byte) (nal, rest []byte) {
	i := bytes.Index(b, startCode)
	if i < 0 {
		return b, nil
	}
	nal, rest = b[:i], b[i+len(startCode):]
	for len(nal) > 0 && nal[len(nal)-1] == 0 {
		nal = nal[:len(nal)-1]
	}
	return nal, rest
}

// setParam replaces *dst with a copy of nal when they differ and reports whether it did.
// A fresh slice is allocated so that readers of the old value keep it intact.
func setParam(dst *[]byte, nal []byte) bool {
	if bytes.Equal(*dst, nal) {
		return false
	}
	*dst = bytes.Clone(nal)
	return true
}

// push frames one RTP packet of a video stream: an AU ends at the marker bit
// or, for cameras that never set it, when the timestamp changes (RTP-09);
// payload adds the packet's NAL units. Errors from ending and adding are
// reported, the last one winning.
func (a *accessUnit) push(pkt *rtp.Packet, emit func(Unit), payload func([]byte, uint32) error) error {
	var err error
	if a.active && pkt.Timestamp != a.pts {
		err = a.end(emit)
	}
	a.begin(pkt.Timestamp)
	if !a.dropping {
		if e := payload(pkt.Payload, pkt.Timestamp); e != nil {
			err = e
		}
	}
	if pkt.Marker {
		if e := a.end(emit); e != nil {
			err = e
		}
	}
	return err
}
