package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	// counters are the camera's; set by Create, then only atomics.
	counters *cameraCounters

	// Owned by the writer goroutine.
	f          segmentFile
	size       int64 // bytes of header and whole fragments in the file
	created    bool  // this segment created the file (and did not remove it)
	indexed    bool  // the index holds this segment's entry
	failed     bool  // the segment failed: no more writes
	syncFailed bool  // an fsync failed: the fd is never fsynced again

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
// track ID whose times define fragment times (see fmp4.AppendFragment). The
// file and index entry are created by the writer; failures show up in Err.
// It is CreateRevision with revision 0 (no cluster).
func (s *Store) Create(camera string, start time.Time, refTrack uint32, init []byte) (*Segment, error) {
	return s.CreateRevision(camera, start, refTrack, 0, init)
}

// CreateRevision is Create for a segment recorded under fencing revision
// rev (the cluster's ownership revision of camera; 0 without a cluster).
// The revision is kept in the index entry and in the file's metadata box,
// and shown in SegmentInfo.Revision.
func (s *Store) CreateRevision(camera string, start time.Time, refTrack uint32, rev int64, init []byte) (*Segment, error) {
	if err := ValidCamera(camera); err != nil {
		return nil, err
	}
	start = start.UTC()
	header := make([]byte, 0, len(init)+64)
	header = append(header, init...)
	header = appendMetaBox(header, segmentMeta{Start: start, Camera: camera, RefTrack: refTrack, Revision: rev})
	scanned, err := scanHeaderBytes(header)
	if err != nil {
		return nil, fmt.Errorf("storage: init segment: %w", err)
	}
	seg := &Segment{s: s, w: s.writerFor(camera), camera: camera, start: start,
		file: segmentPath(camera, start), done: make(chan struct{}), counters: s.countersFor(camera)}
	seg.info = SegmentInfo{Camera: camera, Start: start, End: start, File: seg.file,
		Bytes: int64(len(header)), State: StateOpen, Tracks: scanned.Tracks, Revision: rev}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.addOpenLocked(seg)
	s.mu.Unlock()
	if err := s.send(seg.w, op{kind: opCreate, seg: seg, buf: &header}, true); err != nil {
		s.removeOpen(seg)
		return nil, err
	}
	return seg, nil
}

// Append queues a fragment (prft+moof+mdat bytes from fmp4.AppendFragment in
// a buffer from Store.Buffer). Append takes ownership of buf in every case.
// It never blocks: when the writer's queue is full it drops the fragment and
// returns ErrQueueFull. After a write error it returns that error.
func (seg *Segment) Append(fi FragmentInfo, buf *[]byte) error {
	_, err := seg.AppendWait(fi, buf, 0)
	return err
}

// AppendWait is Append for a caller that may be held back: when the
// writer's queue is full it waits up to wait for room, and only then drops
// the fragment and returns ErrQueueFull. It returns how long it waited for
// room, zero when the queue had some. With wait <= 0 it is Append. It takes
// ownership of buf in every case. A Store.Close that begins meanwhile waits
// for it.
func (seg *Segment) AppendWait(fi FragmentInfo, buf *[]byte, wait time.Duration) (time.Duration, error) {
	if err := seg.Err(); err != nil {
		seg.s.bufs.put(buf)
		return 0, err
	}
	o := op{kind: opAppend, seg: seg, buf: buf, frag: fi}
	var waited time.Duration
	err := seg.s.send(seg.w, o, false)
	if wait > 0 && errors.Is(err, ErrQueueFull) {
		waited, err = seg.s.sendWithin(seg.w, o, wait)
	}
	if err != nil {
		seg.s.bufs.put(buf)
	}
	return waited, err
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
	// After Close the segment stays open in the index; start-up repair
	// seals it.
	_ = seg.s.send(seg.w, op{kind: opSeal, seg: seg}, true)
}

// Done is closed when the segment has been sealed.
func (seg *Segment) Done() <-chan struct{} { return seg.done }

// Err returns the first write error of the segment, if any. A full disk
// gives an error wrapping ErrNoSpace; other errors wrap the OS error. Once
// Err is set, no more fragments are written and Fragments is final.
func (seg *Segment) Err() error {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	return seg.err
}

// Fragments returns how many fragments have been written to the segment
// (and synced, with SyncFragment).
func (seg *Segment) Fragments() int {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	return len(seg.info.Fragments)
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

// fail records the segment's first error and stops its writes. It runs on
// the writer. The error is returned to the segment's owner (Append, Err),
// which logs it; storage only logs it at debug level.
func (seg *Segment) fail(err error) {
	seg.failed = true
	seg.mu.Lock()
	first := seg.err == nil
	if first {
		seg.err = err
		seg.notifyLocked()
	}
	seg.mu.Unlock()
	if first {
		seg.s.log.LogAttrs(context.Background(), slog.LevelDebug, "segment failed",
			slog.String("camera", seg.camera), slog.String("segment", seg.file), slog.Any("err", err))
	}
}

func (seg *Segment) closeFile() {
	if seg.f != nil {
		_ = seg.f.Close() // written data is synced (or not) by policy before; close reports nothing new
		seg.f = nil
	}
}

// putSegment writes a segment's index entry, and its seek table if frags is
// not nil.
func (s *Store) putSegment(info *SegmentInfo, frags []Fragment) error {
	return s.update(func(tx *bolt.Tx) error { return putSegmentTx(tx, info, frags) })
}

// putNewSegment writes the index entry of a segment being created. It fails
// with ErrSegmentExists when the camera has a segment of that start already:
// a create never overwrites another segment's entry.
func (s *Store) putNewSegment(info *SegmentInfo) error {
	return s.update(func(tx *bolt.Tx) error {
		if cb := tx.Bucket(bucketCameras).Bucket([]byte(info.Camera)); cb != nil {
			if segs := cb.Bucket(bucketSegments); segs != nil && segs.Get(segKey(info.Start)) != nil {
				return ErrSegmentExists
			}
		}
		return putSegmentTx(tx, info, nil)
	})
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
	v := encodeSegment(info)
	if frags != nil {
		if err := seek.Put(k, encodeSeek(info.Start, frags)); err != nil {
			return err
		}
		v = appendFragCounts(v, info, frags)
	}
	return segs.Put(k, v)
}

// deleteSegment removes a segment's index entry (not its file).
func (s *Store) deleteSegment(camera string, start time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
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
	return s.update(func(tx *bolt.Tx) error {
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
