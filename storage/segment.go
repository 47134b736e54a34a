package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Segment is one segment file being written. Create returns it; Append and
// Seal queue work on the segment's writer, which runs it in order. Append,
// Seal and Info may be called from any goroutine, but Append and Seal are
// meant for the one recording that owns the segment.
type Segment struct {
	s      *Store
	w      *writer
	camera string
	start  time.Time
	file   string
	done   chan struct{} // closed when Seal has finished

	// Owned by the writer goroutine.
	f *os.File

	// mu guards info, err, sealing, stopped and changed.
	mu      sync.Mutex
	info    SegmentInfo
	err     error
	sealing bool
	stopped bool // the Store closed with the segment still open
	// changed is closed (and set to nil) after a fragment is appended, and
	// when the segment is sealed, fails or is stopped. WaitFragments creates
	// it, so the writer allocates nothing while nobody waits.
	changed chan struct{}
}

// FragmentInfo describes a fragment handed to Append. Offset and Size are
// filled in by the writer.
type FragmentInfo struct {
	Start    time.Time
	Duration time.Duration
	Key      bool
}

// Create starts a new segment for camera at start (the wall-clock time of
// its first fragment). init is the encoded ftyp+moov; refTrack is the MP4
// track ID whose times define fragment times (see AppendFragment). The file
// and index entry are created by the writer; failures show up in Err.
func (s *Store) Create(camera string, start time.Time, refTrack uint32, init []byte) (*Segment, error) {
	if err := ValidCamera(camera); err != nil {
		return nil, err
	}
	start = start.UTC()
	header := make([]byte, 0, len(init)+64)
	header = append(header, init...)
	header = appendMetaBox(header, segmentMeta{Start: start, Camera: camera, RefTrack: refTrack})
	scanned, err := scanHeaderBytes(header)
	if err != nil {
		return nil, fmt.Errorf("storage: init segment: %w", err)
	}
	seg := &Segment{s: s, w: s.writerFor(camera), camera: camera, start: start,
		file: segmentPath(camera, start), done: make(chan struct{})}
	seg.info = SegmentInfo{Camera: camera, Start: start, End: start, File: seg.file,
		Bytes: int64(len(header)), State: StateOpen, Tracks: scanned.Tracks}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.addOpenLocked(seg)
	seg.w.ops <- op{kind: opCreate, seg: seg, buf: &header}
	return seg, nil
}

// Append queues a fragment (prft+moof+mdat bytes from AppendFragment in a
// buffer from Store.Buffer). Append takes ownership of buf in every case.
// It never blocks: when the writer's queue is full it drops the fragment and
// returns ErrQueueFull. After a write error it returns that error.
func (seg *Segment) Append(fi FragmentInfo, buf *[]byte) error {
	if err := seg.Err(); err != nil {
		seg.s.putBuffer(buf)
		return err
	}
	seg.s.mu.RLock()
	defer seg.s.mu.RUnlock()
	if seg.s.closed {
		seg.s.putBuffer(buf)
		return ErrClosed
	}
	select {
	case seg.w.ops <- op{kind: opAppend, seg: seg, buf: buf, frag: fi}:
		return nil
	default:
		seg.s.putBuffer(buf)
		return ErrQueueFull
	}
}

// Seal queues the segment's end: the file is synced and closed and the index
// entry gets its end time and seek table. Done is closed when that is over.
// Seal may block while the writer's queue is full. Calling it twice is a no-op.
func (seg *Segment) Seal() {
	seg.mu.Lock()
	if seg.sealing {
		seg.mu.Unlock()
		return
	}
	seg.sealing = true
	seg.mu.Unlock()
	seg.s.mu.RLock()
	defer seg.s.mu.RUnlock()
	if seg.s.closed {
		return
	}
	seg.w.ops <- op{kind: opSeal, seg: seg}
}

// Done is closed when the segment has been sealed.
func (seg *Segment) Done() <-chan struct{} { return seg.done }

// Err returns the first write error of the segment, if any.
func (seg *Segment) Err() error {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	return seg.err
}

// Info returns the segment's current state; with seek, its seek table too.
func (seg *Segment) Info(seek bool) SegmentInfo {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	info := seg.info
	info.Tracks = append([]string(nil), seg.info.Tracks...)
	info.Fragments = nil
	if seek {
		info.Fragments = append([]Fragment(nil), seg.info.Fragments...)
	}
	return info
}

// notifyLocked wakes WaitFragments callers; seg.mu must be held.
func (seg *Segment) notifyLocked() {
	if seg.changed != nil {
		close(seg.changed)
		seg.changed = nil
	}
}

// stop marks a segment the closing Store leaves open and wakes waiters.
func (seg *Segment) stop() {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	seg.stopped = true
	seg.notifyLocked()
}

func (seg *Segment) fail(err error) {
	seg.mu.Lock()
	first := seg.err == nil
	if first {
		seg.err = err
		seg.notifyLocked()
	}
	seg.mu.Unlock()
	if first {
		seg.s.log.LogAttrs(context.Background(), slog.LevelError, "segment write failed",
			slog.String("camera", seg.camera), slog.String("segment", seg.file), slog.Any("err", err))
	}
}

func (seg *Segment) closeFile() {
	if seg.f != nil {
		seg.f.Close()
		seg.f = nil
	}
}

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
type writer struct {
	s   *Store
	ops chan op
}

func (w *writer) run() {
	for o := range w.ops {
		switch o.kind {
		case opCreate:
			w.create(o.seg, *o.buf)
		case opAppend:
			w.append(o.seg, o.frag, *o.buf)
			w.s.putBuffer(o.buf)
		case opSeal:
			w.seal(o.seg)
		}
	}
}

func (w *writer) create(seg *Segment, header []byte) {
	info := seg.Info(false)
	if err := w.s.putSegment(&info, nil); err != nil {
		seg.fail(fmt.Errorf("index: %w", err))
		return
	}
	dir := path.Dir(seg.file)
	if err := w.s.root.MkdirAll(dir, 0o750); err != nil {
		seg.fail(err)
		return
	}
	f, err := w.s.root.OpenFile(seg.file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		seg.fail(err)
		return
	}
	seg.f = f
	if _, err := f.Write(header); err != nil {
		seg.fail(err)
		return
	}
	if w.s.cfg.Sync != SyncNone {
		if err := w.s.syncNew(f, dir); err != nil {
			seg.fail(err)
		}
	}
}

func (w *writer) append(seg *Segment, fi FragmentInfo, b []byte) {
	if seg.f == nil || seg.Err() != nil {
		return
	}
	seg.mu.Lock()
	off := seg.info.Bytes
	seg.mu.Unlock()
	n, err := seg.f.Write(b)
	if err == nil && w.s.cfg.Sync == SyncFragment {
		err = fdatasync(seg.f)
	}
	if err != nil {
		if n > 0 {
			// Cut the torn fragment so the file stays whole fragments.
			_ = seg.f.Truncate(off) // best effort; repair would cut it too
		}
		seg.fail(err)
		return
	}
	frag := Fragment{Start: fi.Start, Duration: fi.Duration, Key: fi.Key, Offset: off, Size: int64(n)}
	seg.mu.Lock()
	seg.info.Fragments = append(seg.info.Fragments, frag)
	seg.info.Bytes = off + int64(n)
	if end := frag.End(); end.After(seg.info.End) {
		seg.info.End = end
	}
	seg.notifyLocked()
	seg.mu.Unlock()
}

func (w *writer) seal(seg *Segment) {
	defer close(seg.done)
	defer w.s.removeOpen(seg)
	if seg.f != nil && w.s.cfg.Sync != SyncNone {
		if err := seg.f.Sync(); err != nil {
			seg.fail(err)
		}
	}
	seg.closeFile()
	seg.mu.Lock()
	seg.info.State = StateSealed
	info := seg.info
	seg.notifyLocked()
	seg.mu.Unlock()
	if len(info.Fragments) == 0 {
		w.s.dropEmpty(&info)
		return
	}
	if err := w.s.putSegment(&info, info.Fragments); err != nil {
		seg.fail(fmt.Errorf("index: %w", err))
		return
	}
	w.s.log.LogAttrs(context.Background(), slog.LevelInfo, "segment sealed", slog.String("camera", info.Camera),
		slog.String("segment", info.File), slog.Duration("dur", info.End.Sub(info.Start)),
		slog.Int64("bytes", info.Bytes))
}

// putSegment writes a segment's index entry, and its seek table if frags is
// not nil.
func (s *Store) putSegment(info *SegmentInfo, frags []Fragment) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putSegmentTx(tx, info, frags) })
}

func putSegmentTx(tx *bolt.Tx, info *SegmentInfo, frags []Fragment) error {
	cb, err := tx.Bucket(bucketCameras).CreateBucketIfNotExists([]byte(info.Camera))
	if err != nil {
		return err
	}
	segs, err := cb.CreateBucketIfNotExists(bucketSegments)
	if err != nil {
		return err
	}
	seek, err := cb.CreateBucketIfNotExists(bucketSeek)
	if err != nil {
		return err
	}
	k := segKey(info.Start)
	if frags != nil {
		if err := seek.Put(k, encodeSeek(info.Start, frags)); err != nil {
			return err
		}
	}
	return segs.Put(k, encodeSegment(info))
}

// deleteSegment removes a segment's index entry (not its file).
func (s *Store) deleteSegment(camera string, start time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil {
			return nil
		}
		k := segKey(start)
		if err := cb.Bucket(bucketSeek).Delete(k); err != nil {
			return err
		}
		return cb.Bucket(bucketSegments).Delete(k)
	})
}

// dropEmpty removes a segment that never got a fragment: the index entry
// first, then the file (it holds no media).
func (s *Store) dropEmpty(info *SegmentInfo) {
	if err := s.deleteSegment(info.Camera, info.Start); err != nil {
		s.log.Error("drop empty segment", "camera", info.Camera, "segment", info.File, "err", err)
		return
	}
	if err := s.removeFile(info.File); err != nil {
		s.log.Error("remove empty segment file", "camera", info.Camera, "segment", info.File, "err", err)
	}
}

// PutSealed writes index entries of sealed segments, with their seek
// tables, in one transaction. It adopts segment files that the index does
// not know (each File must exist under the data directory) and builds
// synthetic indexes for benchmarks. Entries with the same camera and start
// are replaced.
func (s *Store) PutSealed(infos []SegmentInfo) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for i := range infos {
			info := &infos[i]
			if err := ValidCamera(info.Camera); err != nil {
				return err
			}
			if info.State != StateSealed || len(info.Fragments) == 0 {
				return fmt.Errorf("storage: put sealed %s: not a sealed segment with fragments", info.File)
			}
			if err := putSegmentTx(tx, info, info.Fragments); err != nil {
				return err
			}
		}
		return nil
	})
}
