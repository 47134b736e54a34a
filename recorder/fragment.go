package recorder

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// flushFragment encodes the open fragment and hands it to storage. The
// segment is created with the first fragment, when the decode delay of the
// reference track is known.
func (rec *Recording) flushFragment() {
	rec.fragOpen = false
	defer func() {
		for _, t := range rec.tracks {
			if t != nil {
				rec.clearFragment(t)
			}
		}
		clear(rec.tf) // it points into the track buffers just given back
		rec.fragBytes = 0
		rec.publish(false)
	}()
	if len(rec.ref.pend) == 0 {
		return
	}
	if !rec.mayWrite() {
		rec.dropFragment()
		return
	}
	if rec.seg != nil && rec.r.cfg.Fence != nil {
		if rev := rec.revision(); rev != rec.segRev {
			rec.log.Warn("fencing revision changed; segment sealed", "from", rec.segRev, "to", rev)
			rec.sealSegment()
		}
	}
	if rec.seg == nil && !rec.createSegment() {
		return
	}
	rec.tf = rec.tf[:0]
	refIdx := -1
	for _, t := range rec.tracks {
		if t == nil || t.mp4ID == 0 {
			continue
		}
		if tf, ok := t.buildFragment(); ok {
			tf.TrackID = t.mp4ID
			if t == rec.ref {
				refIdx = len(rec.tf)
			}
			rec.tf = append(rec.tf, tf)
		}
	}
	if refIdx < 0 {
		return
	}
	ref := &rec.tf[refIdx]
	var refTicks int64
	for _, s := range ref.Samples {
		refTicks += int64(s.Duration)
	}
	prftWall := rec.segOrigin + ticksToNS(int64(ref.BaseDecodeTime), rec.ref.clock)
	rec.fragSeq++
	buf := rec.encodeFragment(refIdx, time.Unix(0, prftWall))
	n := len(*buf)
	// The same formula the storage scanner uses, so reindex agrees.
	start := prftWall + ticksToNS(int64(ref.Samples[0].CTO), rec.ref.clock)
	fi := storage.FragmentInfo{Start: time.Unix(0, start), Key: ref.Samples[0].Key,
		Duration: time.Duration(ticksToNS(refTicks, rec.ref.clock))}
	rec.frozen = true
	switch err := rec.append(fi, buf); {
	case err == nil:
		rec.stats.Fragments++
		rec.stats.Bytes += uint64(n)
		rec.stats.Frames += uint64(len(ref.Samples))
		rec.lastFragEnd = start + int64(fi.Duration)
		rec.r.setLastEnd(rec.camera, rec.lastFragEnd)
		rec.segHanded++
		rec.queued(n)
		rec.checkResumed()
	case errors.Is(err, storage.ErrQueueFull):
		rec.stats.FragmentsLost++
		rec.queueFull = true
		rec.warn(warnQueueFull, "write queue full; fragment dropped",
			slog.Uint64("fragments_lost", rec.stats.FragmentsLost))
	default:
		rec.storageFailed(err)
	}
}

// append hands a fragment to the segment. A recording opened with
// Backpressure waits for room in a full write queue, up to
// Config.BackpressureWait, with rec.mu held: its caller then reads nothing
// more from the source, so the source is slowed down and memory does not
// grow. Close does not wait.
func (rec *Recording) append(fi storage.FragmentInfo, buf *[]byte) error {
	if !rec.backpressure || rec.closing {
		return rec.seg.Append(fi, buf)
	}
	waited, err := rec.seg.AppendWait(fi, buf, rec.r.cfg.BackpressureWait)
	if waited > 0 {
		rec.stats.FragmentsDelayed++
		rec.heldBack(waited, err == nil)
	}
	return err
}

// heldBack counts time WriteRTP waited for storage and, when the wait
// ended in time (ok), says so at most once a minute; a wait that ran out
// is reported by what it then drops.
func (rec *Recording) heldBack(waited time.Duration, ok bool) {
	rec.stats.Blocked += waited
	if ok {
		rec.warn(warnBackpressure, "storage behind; source held back", slog.Duration("dur", waited),
			slog.Uint64("fragments_delayed", rec.stats.FragmentsDelayed), slog.Duration("blocked", rec.stats.Blocked))
	}
}

// createSegment fixes the segment's media-time origin and creates it with
// the tracks that are ready (their sample entries can be written); a track
// that is not, such as AAC announced without its config, is left out of this
// segment and said so once. Without a ready reference track nothing is
// written.
func (rec *Recording) createSegment() bool {
	ref := rec.ref
	if !ref.media.Ready() {
		rec.warnNotReady(ref)
		return false
	}
	mts := make([]*media.Track, 0, len(rec.tracks))
	for _, t := range rec.tracks {
		if t == nil {
			continue
		}
		t.mp4ID = 0
		if !t.media.Ready() {
			rec.warnNotReady(t)
			continue
		}
		mts = append(mts, t.media)
		t.mp4ID = uint32(len(mts))
	}
	init, err := media.InitSegment(mts)
	if err != nil {
		rec.log.Error("cannot build init segment", "err", err)
		return false
	}
	// The origin precedes the first presentation time by the reference
	// track's decode delay, so that its first decode time is exactly zero.
	// It is fixed in the reference track's ticks (a round trip through
	// nanoseconds could land the keyframe at -1 and drop it) and the other
	// tracks follow it through the wall clock.
	ref.reorderOff = ref.decodeDelay() // sorts ref.sorted
	ref.segBase = ref.sorted[0] - ref.reorderOff
	rec.segStart = ref.wallOf(ref.pend[0].pts)
	if !rec.keepOrder() {
		rec.stats.FragmentsDropped++
		return false
	}
	rec.segOrigin = ref.wallOf(ref.segBase)
	for _, t := range rec.tracks {
		if t != nil && t.mp4ID != 0 {
			t.haveDTS = false
			if t != ref {
				t.segBase = t.anchorTS + nsToTicks(rec.segOrigin-t.anchorWall, t.clock)
				t.reorderOff = t.decodeDelay()
			}
		}
	}
	rev := rec.revision()
	seg, err := rec.r.store.CreateRevision(rec.camera, time.Unix(0, rec.segStart), ref.mp4ID, rev, init)
	if err != nil {
		rec.storageFailed(err)
		return false
	}
	rec.seg, rec.segRev, rec.segHanded, rec.segPTS = seg, rev, 0, rec.fragStart
	rec.stats.Segments++
	rec.tracksChanged = true // in-band parameter sets may have changed a size
	if rec.state == StateStorageError {
		return true // a retry: checkResumed logs once it works
	}
	rec.state = StateRecording
	rec.log.LogAttrs(context.Background(), slog.LevelInfo, "segment started",
		slog.Time("start", time.Unix(0, rec.segStart).UTC()), slog.Int("tracks", len(mts)))
	return true
}

// revision returns the fencing revision to record under now
// (Config.Fence): the owned revision, or while ownership is in doubt a
// negative one. A segment in doubt keeps its negative revision as long as
// the doubt lasts (Fence's answer may move on; the one read before the
// segment began is the one that proves it); a new one is created under
// the negated revision Fence gives, else the negated last owned one (-1
// if none).
func (rec *Recording) revision() int64 {
	f := rec.r.cfg.Fence
	if f == nil {
		return 0
	}
	rev, ok := f(rec.camera)
	switch {
	case ok:
		rec.lastRev = rev
		return rev
	case rec.seg != nil && rec.segRev < 0:
		return rec.segRev
	case rev > 0:
		return -rev
	}
	return -max(rec.lastRev, 1)
}

// warnNotReady logs once per track that it lacks codec parameters.
func (rec *Recording) warnNotReady(t *track) {
	if !t.warnedNotReady {
		t.warnedNotReady = true
		rec.log.Warn("track lacks codec parameters; not recorded until they arrive",
			"track", t.idx, "codec", t.media.Codec.String())
	}
}

// decodeDelay is how far the pending units' decode order runs ahead of their
// presentation order: max over k of (k-th smallest PTS - k-th PTS), >= 0.
func (t *track) decodeDelay() int64 {
	t.sortPTS()
	var d int64
	for k, p := range t.pend {
		d = max(d, t.sorted[k]-p.pts)
	}
	return d
}

func (t *track) sortPTS() {
	t.sorted = t.sorted[:0]
	for _, p := range t.pend {
		t.sorted = append(t.sorted, p.pts)
	}
	slices.Sort(t.sorted)
}

// buildFragment turns the pending units into trun samples. Decode time k is
// the k-th smallest presentation time minus the decode delay, kept strictly
// increasing; durations are decode-time deltas (the payload's own duration
// for audio). Units before the segment origin are dropped.
func (t *track) buildFragment() (fmp4.TrackFragment, bool) {
	t.sortPTS()
	t.samples = t.samples[:0]
	var base int64
	first := -1
	for k, p := range t.pend {
		dts := t.sorted[k] - t.reorderOff - t.segBase
		if t.haveDTS && dts <= t.lastDTS {
			dts = t.lastDTS + 1
		}
		if dts < 0 {
			continue
		}
		if first < 0 {
			first, base = k, dts
		} else {
			t.setLastDuration(dts)
		}
		t.samples = append(t.samples, fmp4.Sample{Size: uint32(p.size), Key: p.key,
			CTO: int32(p.pts - t.segBase - dts), Duration: p.dur})
		t.haveDTS, t.lastDTS = true, dts
	}
	if first < 0 {
		return fmp4.TrackFragment{}, false
	}
	if last := &t.samples[len(t.samples)-1]; last.Duration == 0 {
		last.Duration = t.lastDur
	}
	start := t.pend[first].off
	return fmp4.TrackFragment{BaseDecodeTime: uint64(base), Samples: t.samples,
		Data: (*t.data)[start:]}, true
}

// setLastDuration sets the previous sample's duration from the new decode
// time, unless the payload gave one.
func (t *track) setLastDuration(dts int64) {
	prev := &t.samples[len(t.samples)-1]
	if prev.Duration == 0 {
		prev.Duration = uint32(dts - t.lastDTS)
	}
	t.lastDur = prev.Duration
}
