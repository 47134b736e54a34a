package export

import "encoding/binary"

// boxWriter appends boxes to a byte slice. open starts a box whose 32-bit
// size close fills in; boxes nest.
type boxWriter struct {
	b    []byte
	open []int // start offsets of the boxes not yet closed
}

func (w *boxWriter) start(typ string) {
	w.open = append(w.open, len(w.b))
	w.b = append(w.b, 0, 0, 0, 0)
	w.b = append(w.b, typ...)
}

// startFull starts a full box: header, version and 24-bit flags.
func (w *boxWriter) startFull(typ string, version byte, flags uint32) {
	w.start(typ)
	w.u32(uint32(version)<<24 | flags&0xFFFFFF)
}

func (w *boxWriter) end() {
	at := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at))
}

func (w *boxWriter) u8(v byte)    { w.b = append(w.b, v) }
func (w *boxWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *boxWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *boxWriter) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *boxWriter) raw(p []byte) { w.b = append(w.b, p...) }
func (w *boxWriter) zeros(n int) {
	for range n {
		w.b = append(w.b, 0)
	}
}

// matrix writes the unity transformation matrix of mvhd and tkhd.
func (w *boxWriter) matrix() {
	for _, v := range [9]uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000} {
		w.u32(v)
	}
}

// ftyp writes a file type box.
func (w *boxWriter) ftyp(major string, compatible ...string) {
	w.start("ftyp")
	w.raw([]byte(major))
	w.u32(0x200)
	for _, c := range compatible {
		w.raw([]byte(c))
	}
	w.end()
}

// mvhd writes a version 1 movie header with zero creation and modification
// times, so that the bytes depend on the recordings only (§8.2.2).
func (w *boxWriter) mvhd(timescale uint32, duration uint64, nextTrackID uint32) {
	w.startFull("mvhd", 1, 0)
	w.u64(0)
	w.u64(0)
	w.u32(timescale)
	w.u64(duration)
	w.u32(0x10000) // rate 1.0
	w.u16(0x100)   // volume 1.0
	w.zeros(10)
	w.matrix()
	w.zeros(24) // pre_defined
	w.u32(nextTrackID)
	w.end()
}

// tkhd writes a version 1 track header, enabled and in the movie (§8.3.2).
func (w *boxWriter) tkhd(t *track, duration uint64) {
	w.startFull("tkhd", 1, 3)
	w.u64(0)
	w.u64(0)
	w.u32(t.id)
	w.u32(0)
	w.u64(duration)
	w.zeros(8)
	w.u16(0) // layer
	w.u16(0) // alternate group
	w.u16(t.volume)
	w.u16(0)
	w.matrix()
	w.u32(t.width)
	w.u32(t.height)
	w.end()
}

// mdhd writes a version 1 media header (§8.4.2).
func (w *boxWriter) mdhd(t *track, duration uint64) {
	w.startFull("mdhd", 1, 0)
	w.u64(0)
	w.u64(0)
	w.u32(t.timescale)
	w.u64(duration)
	w.u16(t.language)
	w.u16(0)
	w.end()
}

// elst writes an edit list of one edit: duration in the movie timescale
// from mediaTime in the track's timescale, at rate 1 (§8.6.6).
func (w *boxWriter) elst(duration uint64, mediaTime int64) {
	w.start("edts")
	w.startFull("elst", 1, 0)
	w.u32(1)
	w.u64(duration)
	w.u64(uint64(mediaTime))
	w.u16(1)
	w.u16(0)
	w.end()
	w.end()
}

// trakHead starts a trak and writes what precedes the sample tables:
//
//	trak{ tkhd, [edts{elst}], mdia{ mdhd, hdlr, minf{ xmhd, dinf, stbl{ stsd ...
//
// with an edit list from mediaTime when it is not negative. The caller
// writes the tables and closes stbl, minf, mdia and trak.
func (w *boxWriter) trakHead(t *track, movieDur, mediaDur uint64, mediaTime int64) {
	w.start("trak")
	w.tkhd(t, movieDur)
	if mediaTime >= 0 {
		w.elst(movieDur, mediaTime)
	}
	w.start("mdia")
	w.mdhd(t, mediaDur)
	w.raw(t.hdlr)
	w.start("minf")
	w.raw(t.mediaHdr)
	w.raw(t.dinf)
	w.start("stbl")
	w.raw(t.stsd)
}

// nextTrackID returns the mvhd next_track_ID: one more than the largest ID.
func nextTrackID(tracks []track) uint32 {
	next := uint32(1)
	for i := range tracks {
		next = max(next, tracks[i].id+1)
	}
	return next
}
