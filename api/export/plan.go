package export

import (
	"fmt"
	"time"
)

// sample is one sample of a progressive export's moov.
type sample struct {
	dts  int64 // export decode time in the track's timescale
	dur  uint32
	cto  int32
	size uint32
	key  bool
}

// chunk is a run of one track's samples that lie back to back in the mdat.
type chunk struct {
	samples uint32
	dst     int64 // offset in the mdat payload
}

// extent is a byte range of a segment file that the mdat payload copies.
type extent struct {
	file     int32 // index in plan.files
	src, dst int64 // offsets in the file and in the mdat payload
	n        int64
}

// plan is everything a progressive export's bytes depend on: the moov's
// tables and where each byte of the mdat comes from. It is built from the
// fragments' headers alone.
type plan struct {
	tracks   []track
	samples  [][]sample // per track
	chunks   [][]chunk  // per track
	files    []string
	extents  []extent
	mdatSize int64
	count    int // samples of all tracks
	// maxSamples bounds count (Options.MaxSamples).
	maxSamples int
	// first and end are the export times of the presentation's start and
	// end, shift included; start is its wall-clock start.
	first, end time.Duration
	start      time.Time
	lastTrack  int // track of the last sample added, -1 before any
}

// buildPlan plans the progressive export of parts for the window
// [start, end): every sample from the first part's first (keyframe)
// fragment to the last sample presented before end.
func (s *Server) buildPlan(camera string, parts []part, start, end time.Time) (*plan, error) {
	tracks := parts[0].tracks
	pl := &plan{tracks: tracks, samples: make([][]sample, len(tracks)), chunks: make([][]chunk, len(tracks)), lastTrack: -1,
		maxSamples: s.opt.MaxSamples}
	tl := newTimeline(tracks, end)
	fr := fragReader{store: s.store}
	frags := 0
	for i := range parts {
		frags += len(parts[i].frags)
	}
	for pi := range parts {
		pt := &parts[pi]
		pl.files = append(pl.files, pt.file)
		tl.enterPart(pt.frags[0].Start)
		for _, f := range pt.frags {
			payload, err := fr.header(pt.file, f)
			if err == nil {
				err = tl.fragment(f, &fr.p)
			}
			if err != nil {
				return nil, s.unreadable("fragment at "+stamp(f.Start), camera, err)
			}
			if pl.count == 0 {
				pl.presize(tl, &fr, frags)
			}
			if err := pl.addFragment(tl, &fr, int32(pi), f.Offset+payload); err != nil {
				return nil, err
			}
		}
		if pi == 0 {
			pl.start = maxTime(start, pt.frags[0].Start)
			pl.first = tl.at(pl.start)
		}
		pl.end = tl.at(minTime(end, tl.partEnd))
	}
	if pl.count == 0 {
		return nil, ErrNoRecording
	}
	pl.fillDurations()
	return pl, nil
}

// presize reserves the tables for frags fragments like the parsed one in
// fr, so that planning an hour does not copy them over and over as they
// grow. All tracks together reserve at most maxSamples+1 samples (the most a
// plan may hold before it is refused), each its share of that bound.
func (pl *plan) presize(tl *timeline, fr *fragReader, frags int) {
	per := make([]int, len(pl.tracks))
	for i := range fr.p.Samples {
		per[tl.index(fr.p.Samples[i].TrackID)]++
	}
	wants := make([]int, len(per))
	total := 0
	for ti, n := range per {
		wants[ti] = n*frags + n*frags/16 + 16
		total += wants[ti]
	}
	if budget := pl.maxSamples + 1; total > budget {
		for ti := range wants {
			wants[ti] = int(int64(wants[ti]) * int64(budget) / int64(total))
		}
		total = budget
	}
	for ti, want := range wants {
		pl.samples[ti] = make([]sample, 0, want)
		pl.chunks[ti] = make([]chunk, 0, min(frags+frags/16+16, want))
	}
	pl.extents = make([]extent, 0, min(frags+16, total))
}

// addFragment adds the samples of the parsed fragment in fr that are
// presented before the window's end; the fragment's mdat payload starts at
// payload in file number file.
func (pl *plan) addFragment(tl *timeline, fr *fragReader, file int32, payload int64) error {
	off := payload
	for i := range fr.p.Samples {
		smp := &fr.p.Samples[i]
		src := off
		off += int64(smp.Size)
		ti := tl.index(smp.TrackID)
		if !tl.beforeEnd(ti, smp) {
			continue
		}
		if pl.count == pl.maxSamples {
			return fmt.Errorf("%w: the window holds more than %d samples; export it as fmp4 or in shorter windows",
				ErrBadRequest, pl.count)
		}
		pl.count++
		pl.samples[ti] = append(pl.samples[ti], sample{dts: tl.dts(ti, smp), dur: smp.Duration, cto: smp.CTO,
			size: smp.Size, key: smp.Key})
		pl.addData(ti, file, src, int64(smp.Size))
	}
	return nil
}

// addData appends a sample's bytes to the mdat: to the last extent when
// they follow it in the same file, to the track's last chunk when the
// previous sample added was the track's.
func (pl *plan) addData(ti int, file int32, src, n int64) {
	if pl.lastTrack == ti {
		pl.chunks[ti][len(pl.chunks[ti])-1].samples++
	} else {
		pl.chunks[ti] = append(pl.chunks[ti], chunk{samples: 1, dst: pl.mdatSize})
	}
	pl.lastTrack = ti
	if k := len(pl.extents) - 1; k >= 0 && pl.extents[k].file == file && pl.extents[k].src+pl.extents[k].n == src {
		pl.extents[k].n += n
	} else {
		pl.extents = append(pl.extents, extent{file: file, src: src, dst: pl.mdatSize, n: n})
	}
	pl.mdatSize += n
}

// fillDurations sets each sample's duration to the distance to the next
// one; the last keeps its recorded duration.
func (pl *plan) fillDurations() {
	for _, ss := range pl.samples {
		for i := 0; i+1 < len(ss); i++ {
			ss[i].dur = uint32(min(ss[i+1].dts-ss[i].dts, 1<<32-1))
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
