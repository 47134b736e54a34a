package recorder

import (
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// Where a fragment's media lives: each track's units go into a buffer from
// the store's size-classed pool (Store.BufferOf), sized by the track's
// last fragment. At the end of the fragment the header and the other
// tracks' (small) data are laid out around the reference track's data in
// its own buffer, which is handed to Segment.Append and goes back to the
// pool once written. So the bulk of the media is buffered once, buffers
// are shared by all cameras, and a recording holds none between fragments.

// maxKeptUnits is how many pending units' worth of per-unit slices a track
// keeps between fragments; a burst of more lets them go.
const maxKeptUnits = 4096

// appendData appends b to t's open fragment data and returns its offset.
// A full buffer is traded for one of the next size class.
func (rec *Recording) appendData(t *track, b []byte) int {
	store := rec.r.store
	if t.data == nil {
		t.data = store.BufferOf(max(len(b), t.dataHint))
	}
	d := *t.data
	if len(d)+len(b) > cap(d) {
		nb := store.BufferOf(len(d) + len(b))
		*nb = append(*nb, d...)
		store.PutBuffer(t.data)
		t.data, d = nb, *nb
	}
	*t.data = append(d, b...)
	return len(d)
}

// clearFragment forgets t's open fragment and gives its buffer back.
func (rec *Recording) clearFragment(t *track) {
	if t.data != nil {
		t.dataHint = len(*t.data)
		rec.r.store.PutBuffer(t.data)
		t.data = nil
	}
	if cap(t.pend) > maxKeptUnits {
		t.pend, t.sorted, t.samples = nil, nil, nil
	}
	t.pend = t.pend[:0]
}

// encodeFragment lays out the fragment of rec.tf in the reference track's
// buffer, which already holds the reference data (rec.tf[refIdx].Data is
// its tail), and takes that buffer from the track for Segment.Append:
//
//	header | data of rec.tf[0] | data of rec.tf[1] | ...
//
// The reference data moves within the buffer (a memmove), or into a larger
// buffer when the whole does not fit; only the other tracks' data is
// copied in.
func (rec *Recording) encodeFragment(refIdx int, wall time.Time) *[]byte {
	hdr := fmp4.HeaderSize(rec.tf)
	total, refOff := hdr, 0
	for i := range rec.tf {
		if i == refIdx {
			refOff = total
		}
		total += len(rec.tf[i].Data)
	}
	ref := rec.ref
	buf, refData := ref.data, rec.tf[refIdx].Data
	ref.data, ref.dataHint = nil, len(*buf)
	if total > cap(*buf) {
		nb := rec.r.store.BufferOf(total)
		*nb = (*nb)[:total]
		copy((*nb)[refOff:], refData)
		rec.r.store.PutBuffer(buf)
		buf = nb
	} else {
		start := len(*buf) - len(refData)
		*buf = (*buf)[:max(total, len(*buf))]
		copy((*buf)[refOff:], (*buf)[start:start+len(refData)])
	}
	b := *buf
	off := hdr
	for i := range rec.tf {
		if i != refIdx {
			copy(b[off:], rec.tf[i].Data)
		}
		off += len(rec.tf[i].Data)
	}
	fmp4.AppendFragmentHeader(b[:0], rec.fragSeq, refIdx, wall, rec.tf)
	*buf = b[:total]
	return buf
}
