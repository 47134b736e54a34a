package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"time"
)

type opKind uint8

const (
	opCreate opKind = iota
	opAppend
	opSeal
)

type op struct {
	kind opKind
	seg  *Segment
	buf  *[]byte
	frag FragmentInfo
}

// writer runs the file and index work of the segments assigned to it.
//
// Its invariant: a segment's index entry, and the seek table handed out
// while it is open, claim only whole fragments that were written (and,
// under SyncFragment, fdatasynced) without error. A failed write is cut
// back so that the file stays whole fragments; a failed fsync ends the
// segment and the fd is never fsynced again (after a failed writeback
// Linux marks the pages clean: a second fsync would report success for
// data that never reached the disk).
type writer struct {
	s   *Store
	ops chan op
}

func (w *writer) run() {
	for o := range w.ops {
		o.seg.counters.queued.Add(-1)
		switch o.kind {
		case opCreate:
			w.create(o.seg, *o.buf)
		case opAppend:
			w.append(o.seg, o.frag, *o.buf)
			w.s.bufs.put(o.buf)
		case opSeal:
			w.seal(o.seg)
		}
	}
}

// create makes the segment's index entry and file. A create that fails
// removes what it made; one that ran out of space asks Reclaim for room and
// tries once more.
func (w *writer) create(seg *Segment, header []byte) {
	fsys := w.s.fsys()
	err := w.createOnce(fsys, seg, header)
	if err != nil && isNoSpace(err) && w.reclaimFor(seg, len(header)) {
		err = w.createOnce(fsys, seg, header)
	}
	if err != nil {
		seg.fail(segmentError("create", seg.file, err))
	}
}

func (w *writer) createOnce(fsys fileSystem, seg *Segment, header []byte) error {
	info := seg.Info(false)
	if err := w.s.putNewSegment(&info); err != nil {
		if !errors.Is(err, ErrSegmentExists) {
			w.countError(seg, err)
		}
		return fmt.Errorf("index: %w", err)
	}
	seg.indexed = true
	if err := w.createFile(fsys, seg, header); err != nil {
		w.countError(seg, err)
		seg.closeFile()
		w.dropSegment(fsys, seg)
		return err
	}
	return nil
}

// createFile creates the file with its header. Unless the policy is
// SyncNone, the file and every directory from its own up to the data
// directory are fsynced: a directory created for it (a new camera, a new
// day) is an entry in its parent that must be durable too.
func (w *writer) createFile(fsys fileSystem, seg *Segment, header []byte) error {
	dir := path.Dir(seg.file)
	if err := makeDirs(fsys, dir); err != nil {
		return err
	}
	f, err := fsys.create(seg.file)
	if err != nil {
		return err
	}
	seg.f, seg.created = f, true
	if _, err := f.WriteAt(header, 0); err != nil {
		return err
	}
	if w.s.cfg.Sync != SyncNone {
		if err := f.Sync(); err != nil {
			return err
		}
		for d := dir; ; d = path.Dir(d) {
			if err := fsys.syncDir(d); err != nil {
				return err
			}
			if d == "." {
				break
			}
		}
	}
	seg.size = int64(len(header))
	seg.counters.bytesWritten.Add(uint64(len(header)))
	w.s.rate.add(time.Now(), len(header))
	return nil
}

// makeDirs creates dir and its missing parents.
func makeDirs(fsys fileSystem, dir string) error {
	for i := 0; i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		if err := fsys.mkdir(dir[:i]); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// append writes one fragment. It adds the fragment to the seek table only
// once it is written (and fdatasynced, under SyncFragment).
func (w *writer) append(seg *Segment, fi FragmentInfo, b []byte) {
	if seg.f == nil || seg.failed {
		return
	}
	off := seg.size
	began := time.Now()
	if err := w.writeFragment(seg, b, off); err != nil {
		seg.fail(err)
		return
	}
	wrote := time.Since(began)
	var synced time.Duration
	if w.s.cfg.Sync == SyncFragment {
		began = time.Now()
		err := seg.f.Datasync()
		synced = time.Since(began)
		if err != nil {
			seg.syncFailed = true
			w.countError(seg, err)
			w.cut(seg, off) // the index will not claim it; keep the file in step
			seg.fail(segmentError("fdatasync", seg.file, err))
			return
		}
	}
	seg.size = off + int64(len(b))
	seg.counters.bytesWritten.Add(uint64(len(b)))
	seg.counters.fragmentsWritten.Add(1)
	frag := Fragment{Start: fi.Start, Duration: fi.Duration, Key: fi.Key, Offset: off, Size: int64(len(b))}
	seg.mu.Lock()
	seg.info.Fragments = append(seg.info.Fragments, frag)
	seg.info.Bytes = seg.size
	if end := frag.End(); end.After(seg.info.End) {
		seg.info.End = end
	}
	seg.notifyLocked()
	seg.mu.Unlock()
	w.s.rate.add(began.Add(wrote+synced), len(b))
	if obs := w.s.cfg.Observer; obs != nil {
		obs.FragmentWritten(seg.camera, len(b), wrote, synced)
	}
}

// writeFragment writes b at off. A failed write is cut back to off, so the
// file stays whole fragments; when the disk is full, Reclaim is asked for
// room and the write is retried once.
func (w *writer) writeFragment(seg *Segment, b []byte, off int64) error {
	err := w.writeAt(seg, b, off)
	if err != nil && isNoSpace(err) && w.reclaimFor(seg, len(b)) {
		err = w.writeAt(seg, b, off)
	}
	if err != nil {
		return segmentError("write", seg.file, err)
	}
	return nil
}

func (w *writer) writeAt(seg *Segment, b []byte, off int64) error {
	n, err := seg.f.WriteAt(b, off)
	if err == nil {
		return nil
	}
	w.countError(seg, err)
	if n > 0 {
		w.cut(seg, off)
	}
	return err
}

// cut truncates the file back to off after a torn write. If that fails
// too, the torn bytes stay beyond the index's Bytes, where check finds
// them; a retried write at off overwrites them.
func (w *writer) cut(seg *Segment, off int64) {
	if err := seg.f.Truncate(off); err != nil {
		w.countError(seg, err)
		w.s.log.LogAttrs(context.Background(), slog.LevelWarn, "cannot cut torn fragment",
			slog.String("camera", seg.camera), slog.String("segment", seg.file), slog.Any("err", err))
	}
}

// reclaimFor asks Reclaim for room after a write of n bytes found the disk
// full, and reports whether it freed any.
func (w *writer) reclaimFor(seg *Segment, n int) bool {
	if w.s.reclaim == nil {
		return false
	}
	need := max(w.s.cfg.ReclaimMin, reclaimFactor*int64(n))
	freed := w.s.reclaim(need)
	if freed <= 0 {
		return false
	}
	seg.counters.reclaimed.Add(uint64(freed))
	w.s.log.LogAttrs(context.Background(), slog.LevelWarn, "disk full; reclaimed space",
		slog.String("camera", seg.camera), slog.Int64("bytes", freed), slog.Int64("need", need))
	return true
}

// reclaimFactor is how many failed writes' worth of room Reclaim is asked
// for at least, so that it runs once per several fragments, not per one.
const reclaimFactor = 8

func (w *writer) countError(seg *Segment, err error) {
	seg.counters.writeErrors.Add(1)
	if isNoSpace(err) {
		seg.counters.noSpace.Add(1)
	}
}

// segmentError names the operation and file of err (unless the os package
// did already) and marks a full disk with ErrNoSpace.
func segmentError(op, file string, err error) error {
	if _, ok := errors.AsType[*fs.PathError](err); !ok {
		err = &fs.PathError{Op: op, Path: file, Err: err}
	}
	if isNoSpace(err) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

// seal syncs and closes the file and writes the final index entry: end
// time, size and seek table of the fragments it may claim. A segment that
// failed is sealed like any other, with the whole fragments it has.
func (w *writer) seal(seg *Segment) {
	defer close(seg.done)
	defer w.s.removeOpen(seg)
	claim := w.syncAtSeal(seg)
	seg.closeFile()
	seg.mu.Lock()
	seg.info.State = StateSealed
	written := len(seg.info.Fragments)
	if !claim {
		seg.info.Fragments, seg.info.End = nil, seg.info.Start
	}
	info := seg.info
	seg.notifyLocked()
	seg.mu.Unlock()
	switch {
	case !claim && written > 0:
		w.unindex(seg)
	case len(info.Fragments) == 0:
		w.dropSegment(w.s.fsys(), seg)
	default:
		if err := w.s.putSegment(&info, info.Fragments); err != nil {
			w.countError(seg, err)
			seg.fail(segmentError("index", indexFile, err))
			return // left open in the index: start-up repair seals it from the file
		}
		seg.counters.segmentsSealed.Add(1)
		w.s.log.LogAttrs(context.Background(), slog.LevelInfo, "segment sealed", slog.String("camera", info.Camera),
			slog.String("segment", info.File), slog.Duration("dur", info.End.Sub(info.Start)),
			slog.Int64("bytes", info.Bytes))
	}
}

// syncAtSeal fsyncs the file as the policy asks and reports whether the
// index may claim the segment's fragments. Only under SyncSegment does this
// fsync vouch for them; under SyncFragment each was fdatasynced already.
func (w *writer) syncAtSeal(seg *Segment) bool {
	if seg.f == nil || w.s.cfg.Sync == SyncNone || seg.syncFailed {
		return true
	}
	if err := seg.f.Sync(); err != nil {
		seg.syncFailed = true
		w.countError(seg, err)
		seg.fail(segmentError("fsync", seg.file, err))
		return w.s.cfg.Sync != SyncSegment
	}
	return true
}

// unindex removes the entry of a segment whose fragments were written but
// whose fsync failed: the index cannot vouch for them, and the file is
// kept, never deleted, for check and reindex to judge.
func (w *writer) unindex(seg *Segment) {
	if err := w.s.deleteSegment(seg.camera, seg.start); err != nil {
		w.s.log.Error("cannot remove index entry of unsynced segment", "camera", seg.camera,
			"segment", seg.file, "err", err)
		return
	}
	seg.indexed = false
	w.s.log.Error("segment not durable after fsync error; kept on disk, left out of the index",
		"camera", seg.camera, "segment", seg.file, "bytes", seg.size)
}

// dropSegment removes what a segment without fragments left: its file, if
// this segment created it, then its index entry. When the file cannot be
// removed the entry stays, open, and start-up repair finishes the job.
func (w *writer) dropSegment(fsys fileSystem, seg *Segment) {
	if seg.created {
		w.s.files.forget(seg.file)
		if err := fsys.remove(seg.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.s.log.Error("cannot remove empty segment file", "camera", seg.camera, "segment", seg.file, "err", err)
			return
		}
		seg.created = false
	}
	if seg.indexed {
		if err := w.s.deleteSegment(seg.camera, seg.start); err != nil {
			w.s.log.Error("cannot remove index entry of empty segment", "camera", seg.camera,
				"segment", seg.file, "err", err)
			return
		}
		seg.indexed = false
	}
}
