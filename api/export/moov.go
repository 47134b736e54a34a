package export

import (
	"encoding/binary"
	"time"
)

// movieTimescale is the mvhd and edit-list timescale of a progressive
// export: milliseconds. Media times keep each track's own timescale.
const movieTimescale = 1000

// header returns what precedes the mdat payload of a progressive export:
//
//	ftyp | moov{ mvhd, trak{ tkhd, edts{elst}, mdia{ mdhd, hdlr, minf{ xmhd, dinf, stbl{ stsd stts [ctts] [stss] stsz stsc co64 } } } }... } | mdat header
//
// Tracks without samples are left out. Chunk offsets are absolute, so the
// co64 entries are patched once the header's length is known.
func (pl *plan) header() []byte {
	w := &boxWriter{b: make([]byte, 0, 1024+pl.count*5)}
	w.ftyp("isom", "isom", "iso2", "mp41")
	movieDur := uint64(max(pl.end-pl.first, 0) / (time.Second / movieTimescale))
	w.start("moov")
	w.mvhd(movieTimescale, movieDur, nextTrackID(pl.tracks))
	var co64 []int // offsets in w.b of co64 entry tables, with their counts
	var counts []int
	for i := range pl.tracks {
		if len(pl.samples[i]) == 0 {
			continue
		}
		at := pl.trak(w, i, movieDur)
		co64, counts = append(co64, at), append(counts, len(pl.chunks[i]))
	}
	w.end()
	if size := pl.mdatSize + 8; size <= 1<<32-1 {
		w.u32(uint32(size))
		w.raw([]byte("mdat"))
	} else {
		w.u32(1)
		w.raw([]byte("mdat"))
		w.u64(uint64(pl.mdatSize + 16))
	}
	base := uint64(len(w.b))
	for k, at := range co64 {
		for j := range counts[k] {
			p := w.b[at+8*j:]
			binary.BigEndian.PutUint64(p, binary.BigEndian.Uint64(p)+base)
		}
	}
	return w.b
}

// trak writes track i's trak and returns where its co64 entries start.
func (pl *plan) trak(w *boxWriter, i int, movieDur uint64) int {
	t := &pl.tracks[i]
	ss := pl.samples[i]
	last := ss[len(ss)-1]
	w.trakHead(t, movieDur, uint64(last.dts)+uint64(last.dur), nsToTicks(pl.first, t.timescale))
	stts(w, ss)
	ctts(w, ss)
	stss(w, ss)
	stsz(w, ss)
	stsc(w, pl.chunks[i])
	at := co64(w, pl.chunks[i])
	w.end()
	w.end()
	w.end()
	w.end()
	return at
}

// stts writes the decoding time-to-sample box: run-length coded durations
// (§8.6.1.2).
func stts(w *boxWriter, ss []sample) {
	w.startFull("stts", 0, 0)
	runs(w, ss, func(s *sample) uint32 { return s.dur })
	w.end()
}

// ctts writes run-length coded composition offsets when any is not zero,
// version 1 (signed) when any is negative (§8.6.1.3).
func ctts(w *boxWriter, ss []sample) {
	var any, neg bool
	for i := range ss {
		any = any || ss[i].cto != 0
		neg = neg || ss[i].cto < 0
	}
	if !any {
		return
	}
	version := byte(0)
	if neg {
		version = 1
	}
	w.startFull("ctts", version, 0)
	runs(w, ss, func(s *sample) uint32 { return uint32(s.cto) })
	w.end()
}

// runs writes an entry count and (count, value) pairs of the runs of equal
// values of ss.
func runs(w *boxWriter, ss []sample, value func(*sample) uint32) {
	at := len(w.b)
	w.u32(0)
	n := uint32(0)
	for i := 0; i < len(ss); {
		v := value(&ss[i])
		j := i + 1
		for j < len(ss) && value(&ss[j]) == v {
			j++
		}
		w.u32(uint32(j - i))
		w.u32(v)
		n++
		i = j
	}
	binary.BigEndian.PutUint32(w.b[at:], n)
}

// stss writes the sync samples when not every sample is one (§8.6.2).
func stss(w *boxWriter, ss []sample) {
	keys := 0
	for i := range ss {
		if ss[i].key {
			keys++
		}
	}
	if keys == len(ss) {
		return
	}
	w.startFull("stss", 0, 0)
	w.u32(uint32(keys))
	for i := range ss {
		if ss[i].key {
			w.u32(uint32(i + 1))
		}
	}
	w.end()
}

// stsz writes the sample sizes, as one size when all are equal (§8.7.3).
func stsz(w *boxWriter, ss []sample) {
	same := true
	for i := range ss {
		same = same && ss[i].size == ss[0].size
	}
	w.startFull("stsz", 0, 0)
	if same {
		w.u32(ss[0].size)
		w.u32(uint32(len(ss)))
	} else {
		w.u32(0)
		w.u32(uint32(len(ss)))
		for i := range ss {
			w.u32(ss[i].size)
		}
	}
	w.end()
}

// stsc writes the sample-to-chunk runs, all of sample description 1
// (§8.7.4).
func stsc(w *boxWriter, cs []chunk) {
	w.startFull("stsc", 0, 0)
	at := len(w.b)
	w.u32(0)
	n := uint32(0)
	for i := range cs {
		if i > 0 && cs[i].samples == cs[i-1].samples {
			continue
		}
		w.u32(uint32(i + 1))
		w.u32(cs[i].samples)
		w.u32(1)
		n++
	}
	binary.BigEndian.PutUint32(w.b[at:], n)
	w.end()
}

// co64 writes the chunk offsets relative to the mdat payload and returns
// where they start, for header to make them absolute (§8.7.5).
func co64(w *boxWriter, cs []chunk) int {
	w.startFull("co64", 0, 0)
	w.u32(uint32(len(cs)))
	at := len(w.b)
	for i := range cs {
		w.u64(uint64(cs[i].dst))
	}
	w.end()
	return at
}
