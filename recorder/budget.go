package recorder

import (
	"context"
	"log/slog"
	"time"

	"github.com/camvault/camvault/storage"
)

// Memory budgets. A recording holds media in two places: its open fragment
// (the tracks' pooled data buffers, plus per-unit bookkeeping) and the
// fragments it handed to storage that the writer has not written yet (each
// in a buffer from Store.Buffer, given back by the writer). Both count
// against Config.MaxRecordingBuffer, and all recordings together against
// Config.MaxBuffer, from which each recording reserves grantStep at a time
// so that the shared counter is touched about once per MiB, not per unit.

// unitOverhead is what one pending unit costs besides its data: its
// pending entry, sorted PTS and trun sample, rounded up.
const unitOverhead = 64

// grantStep is the granularity of reservations from Config.MaxBuffer.
const grantStep = 256 << 10

// queuedFragment is a fragment handed to storage: written once seg holds n
// fragments, or when seg failed or was sealed.
type queuedFragment struct {
	seg   *storage.Segment
	n     int
	bytes int
}

// charge makes room for n more bytes in the open fragment. It reports false
// when that would exceed the recording's or the process's budget even after
// counting what storage has written since. rec.mu must be held.
func (rec *Recording) charge(n int) chargeResult {
	need := rec.fragBytes + rec.queuedBytes + n
	if need > rec.granted {
		rec.retire()
		need = rec.fragBytes + rec.queuedBytes + n
		if need > rec.r.cfg.MaxRecordingBuffer {
			return overRecording
		}
		if need > rec.granted {
			want := min((need+grantStep-1)/grantStep*grantStep, rec.r.cfg.MaxRecordingBuffer)
			if !rec.r.grant(int64(want - rec.granted)) {
				return overProcess
			}
			rec.granted = want
		}
	}
	if p := uint64(need); p > rec.stats.PeakBuffered {
		rec.stats.PeakBuffered = p
	}
	return charged
}

// chargeResult is what charge decided.
type chargeResult uint8

const (
	charged       chargeResult = iota
	overRecording              // the recording's own budget: it ends (ErrOverBudget)
	overProcess                // the process budget: the open fragment is dropped
)

// dropOpenFragment drops the open fragment when the process budget has no
// room for it (the storage writer lags behind every camera): the recording
// goes on from the next keyframe, and the loss is counted and logged at
// most once a minute. One camera's own excess ends only that camera
// (overRecording); a shortage of all of them must not end them all.
func (rec *Recording) dropOpenFragment() {
	for _, t := range rec.tracks {
		if t != nil {
			rec.clearFragment(t)
		}
	}
	rec.fragOpen, rec.fragBytes = false, 0
	rec.stats.FragmentsLost++
	rec.warn(warnQueueFull, "media budget of the process exhausted; fragment dropped",
		slog.Uint64("fragments_lost", rec.stats.FragmentsLost))
}

// chargeAfterWrites is the second chance of a recording opened with
// Backpressure whose charge of n bytes failed while fragments it handed to
// storage wait to be written: it waits for the writer, up to
// BackpressureWait in all, and charges again after each of them. Its
// caller reads nothing meanwhile, so the source is held back and memory
// does not grow. rec.mu stays held. It reports whether the charge
// succeeded.
func (rec *Recording) chargeAfterWrites(n int) bool {
	if !rec.backpressure || len(rec.queue) == 0 {
		return false
	}
	start := time.Now() // wall time, as storage's AppendWait measures it
	ctx, cancel := context.WithTimeout(context.Background(), rec.r.cfg.BackpressureWait)
	defer cancel()
	ok := false
	for !ok && len(rec.queue) > 0 {
		q := rec.queue[0]
		if _, err := rec.r.store.WaitFragments(ctx, rec.camera, q.seg.Info(false).Start, q.n-1); err != nil {
			break // the wait ran out, or the segment can take no more
		}
		ok = rec.charge(n) == charged
	}
	rec.heldBack(time.Since(start), ok)
	return ok
}

// queued counts a fragment of n bytes just handed to rec.seg.
func (rec *Recording) queued(n int) {
	rec.queue = append(rec.queue, queuedFragment{seg: rec.seg, n: rec.segHanded, bytes: n})
	rec.queuedBytes += n // the open fragment's bytes, counted there until now
	if p := uint64(rec.queuedBytes); p > rec.stats.PeakBuffered {
		rec.stats.PeakBuffered = p
	}
}

// retire forgets the queued fragments that storage has written (or will
// never write) and gives back the reservation they no longer need: all of
// it once an ended recording has nothing queued. rec.mu must be held.
func (rec *Recording) retire() {
	k := 0
	for k < len(rec.queue) && rec.queue[k].written() {
		rec.queuedBytes -= rec.queue[k].bytes
		k++
	}
	if k > 0 {
		n := copy(rec.queue, rec.queue[k:])
		clear(rec.queue[n:])
		rec.queue = rec.queue[:n]
	}
	keep := 0
	if !rec.closed || len(rec.queue) > 0 {
		held := rec.fragBytes + rec.queuedBytes
		if rec.granted-held <= grantStep {
			return
		}
		keep = (held + grantStep - 1) / grantStep * grantStep
	}
	if keep < rec.granted {
		rec.r.ungrant(rec, int64(rec.granted-keep), keep == 0)
		rec.granted = keep
	}
}

func (q *queuedFragment) written() bool {
	if q.seg.Fragments() >= q.n || q.seg.Err() != nil {
		return true
	}
	select {
	case <-q.seg.Done():
		return true
	default:
		return false
	}
}

// grant reserves n bytes of the process budget; false if it has not room.
func (r *Recorder) grant(n int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.granted+n > r.cfg.MaxBuffer {
		return false
	}
	r.granted += n
	return true
}

// ungrant gives back n bytes reserved by rec; drained says rec has ended
// and holds nothing more.
func (r *Recorder) ungrant(rec *Recording, n int64, drained bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.granted -= n
	if drained {
		delete(r.draining, rec)
	}
}

// Buffered returns how many bytes of Config.MaxBuffer the recordings have
// reserved for buffered media (open fragments and fragments queued to
// storage), in steps of 256 KiB per recording; ended recordings count until
// storage has written what they queued.
func (r *Recorder) Buffered() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.granted
}

// haveRoom reports whether a new recording fits in the process budget: at
// least one recording's budget is left. When it is not, it first counts
// what storage has written for every recording, ended ones included, but
// skips a recording busy with a packet: one held back by storage keeps its
// lock for up to BackpressureWait, and Open must not queue behind them all.
func (r *Recorder) haveRoom() bool {
	r.mu.Lock()
	ok := r.granted <= r.cfg.MaxBuffer-int64(r.cfg.MaxRecordingBuffer)
	var recs []*Recording
	if !ok {
		for _, rec := range r.active {
			recs = append(recs, rec)
		}
		for rec := range r.draining {
			recs = append(recs, rec)
		}
	}
	r.mu.Unlock()
	if ok {
		return true
	}
	for _, rec := range recs {
		if rec.mu.TryLock() {
			rec.retire()
			rec.mu.Unlock()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.granted <= r.cfg.MaxBuffer-int64(r.cfg.MaxRecordingBuffer)
}
