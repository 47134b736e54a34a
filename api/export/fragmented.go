package export

import (
	"fmt"
	"net/http"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// initFMP4 returns the init of a fragmented export: an ftyp of the CMAF-era
// brands and a moov with empty sample tables and an mvex (ISO/IEC 14496-12
// §8.8).
//
//	ftyp(iso5; iso5 iso6 mp41) | moov{ mvhd, trak{ tkhd, mdia{ mdhd, hdlr, minf{ xmhd, dinf, stbl{ stsd, stts, stsc, stsz, stco } } } }..., mvex{ trex... } }
func initFMP4(tracks []track) []byte {
	w := &boxWriter{}
	w.ftyp("iso5", "iso5", "iso6", "mp41")
	w.start("moov")
	w.mvhd(movieTimescale, 0, nextTrackID(tracks))
	for i := range tracks {
		t := &tracks[i]
		w.trakHead(t, 0, 0, -1)
		for _, typ := range []string{"stts", "stsc", "stco"} {
			w.startFull(typ, 0, 0)
			w.u32(0)
			w.end()
		}
		w.startFull("stsz", 0, 0)
		w.u32(0)
		w.u32(0)
		w.end()
		w.end()
		w.end()
		w.end()
		w.end()
	}
	w.start("mvex")
	for i := range tracks {
		w.startFull("trex", 0, 0)
		w.u32(tracks[i].id)
		w.u32(1) // sample description index
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.end()
	}
	w.end()
	w.end()
	return w.b
}

// refragmenter rewrites the fragments of an export's parts with export
// decode times, one at a time into a reused buffer.
type refragmenter struct {
	tl     *timeline
	fr     fragReader
	seq    uint32
	out    []byte
	tracks []fmp4.TrackFragment // per track, reused
	dts    [][]int64            // per track: export decode times of the fragment's samples
}

func newRefragmenter(s *Server, tracks []track, end time.Time) *refragmenter {
	return &refragmenter{tl: newTimeline(tracks, end), fr: fragReader{store: s.store},
		tracks: make([]fmp4.TrackFragment, len(tracks)), dts: make([][]int64, len(tracks))}
}

// fragment reads fragment k of pt and returns it rewritten (valid until the
// next call), or nil when none of its samples is presented before the end.
func (rf *refragmenter) fragment(pt *part, k int) ([]byte, error) {
	f := pt.frags[k]
	if k == 0 {
		rf.tl.enterPart(f.Start)
	}
	if err := rf.fr.full(pt.file, f); err != nil {
		return nil, err
	}
	if err := rf.tl.fragment(f, &rf.fr.p); err != nil {
		return nil, err
	}
	for i := range rf.tracks {
		rf.tracks[i] = fmp4.TrackFragment{TrackID: rf.tl.tracks[i].id, Samples: rf.tracks[i].Samples[:0],
			Data: rf.tracks[i].Data[:0]}
		rf.dts[i] = rf.dts[i][:0]
	}
	ref, wall := -1, time.Time{}
	for i := range rf.fr.p.Samples {
		smp := &rf.fr.p.Samples[i]
		ti := rf.tl.index(smp.TrackID)
		if !rf.tl.beforeEnd(ti, smp) {
			continue
		}
		d := rf.tl.dts(ti, smp)
		tf := &rf.tracks[ti]
		if len(tf.Samples) == 0 {
			tf.BaseDecodeTime = uint64(d)
			if ref < 0 || smp.TrackID == rf.fr.p.RefTrack {
				ref = ti
				wall = rf.tl.segStart.Add(ticksToNs(int64(smp.DTS)-rf.tl.base[ti], rf.tl.tracks[ti].timescale))
			}
		}
		rf.dts[ti] = append(rf.dts[ti], d)
		tf.Samples = append(tf.Samples, fmp4.Sample{Duration: smp.Duration, CTO: smp.CTO, Size: smp.Size, Key: smp.Key})
		tf.Data = append(tf.Data, smp.Data...)
	}
	if ref < 0 {
		return nil, nil
	}
	return rf.encode(ref, wall), nil
}

// encode writes the non-empty track fragments, each sample lasting until the
// next one's export decode time.
func (rf *refragmenter) encode(ref int, wall time.Time) []byte {
	var out []fmp4.TrackFragment
	refOut := 0
	for i := range rf.tracks {
		tf := &rf.tracks[i]
		if len(tf.Samples) == 0 {
			continue
		}
		for j := 0; j+1 < len(tf.Samples); j++ {
			tf.Samples[j].Duration = uint32(min(rf.dts[i][j+1]-rf.dts[i][j], 1<<32-1))
		}
		if i == ref {
			refOut = len(out)
		}
		out = append(out, *tf)
	}
	rf.seq++
	rf.out = fmp4.AppendFragment(rf.out[:0], rf.seq, refOut, wall, out)
	return rf.out
}

// serveFMP4 streams the fragmented export: the init, then each fragment as
// it is read, until the window's end or the client leaves.
func (s *Server) serveFMP4(w http.ResponseWriter, r *http.Request, camera string, start, end time.Time) error {
	parts, err := s.selectParts(camera, start, end)
	if err != nil {
		return err
	}
	rf := newRefragmenter(s, parts[0].tracks, end)
	first, err := rf.fragment(&parts[0], 0) // read before the first byte, so that a bad file is a 500
	if err != nil {
		return s.unreadable("fragment at "+stamp(parts[0].frags[0].Start), camera, err)
	}
	if first == nil {
		return ErrNoRecording
	}
	h := w.Header()
	// Media time 0 is the first keyframe, less the shift that kept audio
	// before it at non-negative decode times.
	setCommon(h, camera, start, end, gapsOf(parts), parts[0].frags[0].Start.Add(-rf.tl.shiftNs))
	h.Set("Accept-Ranges", "none")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	switch err := s.stream(w, r, rf, parts, initFMP4(parts[0].tracks), first); {
	case err == nil:
		s.log.Debug("export served", "camera", camera, "format", FormatFMP4, "fragments", rf.seq)
	case r.Context().Err() != nil:
		s.log.Debug("export client left", "camera", camera, "err", err)
	default:
		s.log.Warn("export cut short", "camera", camera, "err", err)
	}
	return nil
}

// stream writes the init and the fragments, the first one already read.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, rf *refragmenter, parts []part, init, first []byte) error {
	rc := http.NewResponseController(w)
	if _, err := w.Write(init); err != nil {
		return err
	}
	if _, err := w.Write(first); err != nil {
		return err
	}
	ctx := r.Context()
	for pi := range parts {
		k0 := 0
		if pi == 0 {
			k0 = 1
		}
		for k := k0; k < len(parts[pi].frags); k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := rf.fragment(&parts[pi], k)
			if err != nil {
				return fmt.Errorf("fragment at %s: %w", stamp(parts[pi].frags[k].Start), err)
			}
			if b == nil {
				continue
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
			_ = rc.Flush() // a writer that cannot flush still gets every byte
		}
	}
	return nil
}
