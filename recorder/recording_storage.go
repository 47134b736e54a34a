package recorder

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/camvault/camvault/storage"
)

// State returns what the recording is doing and, in StateStorageError, the
// storage error that stopped it (the latest one while retries fail).
func (rec *Recording) State() (RecordingState, error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.state == StateStorageError {
		return rec.state, rec.stateErr
	}
	return rec.state, nil
}

// mayWrite reports whether the fragment being flushed goes to storage.
// After a storage failure it does only from the first keyframe after the
// retry time, and then as long as that new segment takes fragments.
func (rec *Recording) mayWrite() bool {
	if rec.state != StateStorageError || rec.seg != nil {
		return true
	}
	return rec.ref.pend[0].key && unixNS(rec.r.cfg.Now()) >= rec.retryAt
}

// dropFragment counts a fragment not written because storage failed.
func (rec *Recording) dropFragment() {
	rec.stats.FragmentsDropped++
	rec.outageDrops++
}

// storageFailed handles a storage error of the fragment being flushed: the
// segment is sealed with what it has, and the recording enters (or stays
// in) StateStorageError until a retry succeeds. One Error line says so per
// outage; failed retries only update the error.
func (rec *Recording) storageFailed(err error) {
	lost := uint64(1) // the fragment being flushed
	if rec.seg != nil {
		// Fragments handed to the segment that the writer did not write:
		// once its error is set, Fragments is final.
		lost += uint64(max(rec.segHanded-rec.seg.Fragments(), 0))
	}
	rec.sealSegment()
	now := unixNS(rec.r.cfg.Now())
	rec.retryAt = now + int64(rec.r.cfg.StorageRetry)
	rec.stats.FragmentsDropped += lost
	rec.stateErr = err
	if rec.state == StateStorageError {
		rec.outageDrops += lost
		return
	}
	rec.state, rec.failedAt, rec.outageDrops = StateStorageError, now, lost
	rec.stats.StorageErrors++
	rec.log.LogAttrs(context.Background(), slog.LevelError, "storage failed; recording paused",
		slog.String("reason", storageReason(err)), slog.Any("err", err),
		slog.Duration("retry", rec.r.cfg.StorageRetry))
}

// checkResumed ends StateStorageError once the new segment has a fragment
// on disk.
func (rec *Recording) checkResumed() {
	if rec.state != StateStorageError || rec.seg == nil || rec.seg.Fragments() == 0 {
		return
	}
	rec.state, rec.stateErr = StateRecording, nil
	rec.log.LogAttrs(context.Background(), slog.LevelInfo, "recording resumed",
		slog.Duration("dur", time.Duration(unixNS(rec.r.cfg.Now())-rec.failedAt)),
		slog.Uint64("fragments_dropped", rec.outageDrops),
		slog.Time("start", time.Unix(0, rec.segStart).UTC()))
}

// storageReason names a storage error for the operator.
func storageReason(err error) string {
	switch {
	case errors.Is(err, storage.ErrNoSpace):
		return "disk full"
	case errors.Is(err, storage.ErrClosed):
		return "storage closed"
	}
	return "write error"
}
