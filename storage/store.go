package storage

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketCameras  = []byte("cameras")
	bucketSegments = []byte("segments")
	bucketSeek     = []byte("seek")
)

// Store is one data directory: segment files and their index. Its methods
// are safe for concurrent use.
type Store struct {
	cfg     Config
	log     *slog.Logger
	root    *os.Root
	db      *bolt.DB
	writers []*writer
	wg      sync.WaitGroup
	bufs    bufferPool // fragment buffers
	files   *fileCache // read-only files for playback
	ret     retentionState
	rate    rateMeter  // bytes written, for WriteRate
	ready   readyProbe // Ready's cached index write probe
	usage   usageCache // Usage's last answer
	// reclaim frees space when a write finds the disk full (Config.Reclaim);
	// set before the writers start.
	reclaim func(need int64) (freed int64)

	// holdsMu orders the changes of stored holds with their writes of the
	// holds file (updateHolds).
	holdsMu sync.Mutex
	// heldLogMu guards heldLogAt: when logHeldBack last logged.
	heldLogMu sync.Mutex
	heldLogAt time.Time

	// reserveMu guards reserved: whether the index reserve file exists.
	reserveMu sync.Mutex
	reserved  bool

	// countersMu guards the counters map (not the counters: atomics).
	countersMu sync.Mutex
	counters   map[string]*cameraCounters
	startup    StartupReport
	sum        indexSummary // the index as Open found it; start-up only

	// sendMu guards sending on the writers' queues against Close closing
	// them. Senders hold it for reading, also while a full queue blocks
	// them; Close takes it for writing before it closes the queues. It is
	// not mu, which a writer needs to finish a seal: a Seal blocked on its
	// writer's full queue while holding mu would wait for that writer
	// forever.
	sendMu     sync.RWMutex
	sendClosed bool

	// mu guards closed, open, openByKey and emptyLater.
	mu     sync.RWMutex
	closed bool
	open   map[*Segment]struct{}
	// openByKey finds an open segment by camera and start; with two
	// segments of one key (a failed duplicate Create) it holds the newer.
	openByKey map[segmentKey]*Segment
	// emptyLater holds the day directories retention emptied while an open
	// segment was still registered in them (one being sealed can already be
	// indexed and deleted); removeOpen removes them when the last one goes.
	emptyLater map[string]bool
}

// segmentKey identifies a segment: its camera and start (Unix ns).
type segmentKey struct {
	camera string
	start  int64
}

// addOpenLocked registers seg as open; s.mu must be held for writing.
func (s *Store) addOpenLocked(seg *Segment) {
	s.open[seg] = struct{}{}
	s.openByKey[segmentKey{seg.camera, seg.start.UnixNano()}] = seg
}

// send queues o on w. With wait it blocks while the queue is full;
// without, it returns ErrQueueFull. After Close it returns ErrClosed.
func (s *Store) send(w *writer, o op, wait bool) error {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.sendClosed {
		return ErrClosed
	}
	q := &o.seg.counters.queued // counted before the writer can take it
	q.Add(1)
	if wait {
		w.ops <- o
		return nil
	}
	select {
	case w.ops <- o:
		return nil
	default:
		q.Add(-1)
		return ErrQueueFull
	}
}

// sendWithin queues o on w, waiting up to wait while the queue is full,
// and returns how long it waited; when the queue had no room by then it
// returns ErrQueueFull. It holds sendMu for reading while it waits, so a
// Close waits for it too (wait at most).
func (s *Store) sendWithin(w *writer, o op, wait time.Duration) (time.Duration, error) {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.sendClosed {
		return 0, ErrClosed
	}
	start := time.Now()
	t := time.NewTimer(wait)
	defer t.Stop()
	q := &o.seg.counters.queued
	q.Add(1)
	select {
	case w.ops <- o:
		return time.Since(start), nil
	case <-t.C:
		q.Add(-1)
		return time.Since(start), ErrQueueFull
	}
}

// removeOpen unregisters seg once it is sealed.
func (s *Store) removeOpen(seg *Segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, seg)
	k := segmentKey{seg.camera, seg.start.UnixNano()}
	if s.openByKey[k] == seg {
		delete(s.openByKey, k)
	}
	if day := path.Dir(seg.file); s.emptyLater[day] && !s.dirBusyLocked(day) {
		delete(s.emptyLater, day)
		s.removeDayLocked(day)
	}
}

// openSegment returns the open segment of camera that starts at start, or
// nil.
func (s *Store) openSegment(camera string, start time.Time) *Segment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.openByKey[segmentKey{camera, start.UnixNano()}]
}

// Open opens (creating if needed) the data directory and its index, checks
// that both belong together, repairs segments left open by a crash,
// reconciles the index with the files and starts the writers.
//
// The index (index.db) and recordings/.camvault-id carry the same random
// data directory ID:
//   - neither exists: a new data directory; both are created.
//   - no index.db but segment files: the index is rebuilt from the files
//     (the file ID is kept, or created) and the rebuild is logged.
//   - the IDs match: normal start.
//   - the IDs differ: Open fails with ErrWrongDataDir and changes nothing.
//   - the index has an ID and segments but recordings/ has no ID file: Open
//     fails with ErrNoDataDirID (the disk may not be mounted). With no
//     segments in the index, the ID file is written.
//   - the index has no ID (written before IDs existed): it adopts the file
//     ID, or a new one written to both sides.
//   - index.db is corrupt: it is renamed to index.db.corrupt-{UTC time} and
//     rebuilt from the files. One written by a newer camvault makes Open fail
//     with ErrNewerIndex.
//
// Then entries left open are repaired (see repair), sealed entries whose
// file is gone are removed, and segment files the index does not know are
// adopted; no file is deleted except an open segment's that holds no
// fragment. StartupReport says what was found.
func Open(cfg Config) (*Store, error) {
	began := time.Now()
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create data directory: %w", err)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open data directory: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With("component", "storage"), root: root,
		open: make(map[*Segment]struct{}), openByKey: make(map[segmentKey]*Segment), emptyLater: map[string]bool{},
		files:   newFileCache(root, cfg.ReadFiles, cfg.ReadIdle),
		reclaim: cfg.Reclaim}
	if s.reclaim == nil {
		s.reclaim = s.reclaimForWriter
	}
	if err := s.startUp(began); err != nil {
		if s.db != nil {
			s.db.Close()
		}
		root.Close()
		return nil, err
	}
	s.db.NoSync = cfg.Sync == SyncNone // see SyncPolicy
	s.rate.opened = time.Now()
	s.ensureReserve()
	for range cfg.Writers {
		w := &writer{s: s, ops: make(chan op, cfg.WriteQueue)}
		s.writers = append(s.writers, w)
		s.wg.Go(w.run)
	}
	return s, nil
}

// Close seals nothing by itself: callers seal their segments first. It
// drains the write queues, waits for the writers and for a retention pass
// to end (it stops at its next batch), wakes WaitFragments
// callers (they get ErrClosed), closes the files kept open for playback
// (reads after Close get ErrClosed) and closes the index. Segments still
// open stay open in the index and are repaired at next Open.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.sendMu.Lock()
	s.sendClosed = true
	s.sendMu.Unlock()
	for _, w := range s.writers {
		close(w.ops)
	}
	s.wg.Wait()
	s.ret.pass.Lock() // a retention pass ends at its next batch
	defer s.ret.pass.Unlock()
	s.holdsMu.Lock() // a hold change under way writes its holds file first
	defer s.holdsMu.Unlock()
	for seg := range s.open {
		seg.closeFile()
		seg.stop()
	}
	s.files.close()
	err := s.db.Close()
	if rerr := s.root.Close(); err == nil {
		err = rerr
	}
	return err
}

func (s *Store) writerFor(camera string) *writer {
	h := fnv.New32a()
	h.Write([]byte(camera))
	return s.writers[h.Sum32()%uint32(len(s.writers))]
}

// Cameras lists the cameras that have segments in the index.
func (s *Store) Cameras() ([]string, error) {
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCameras).ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// Segments returns camera's segments that overlap [from, to), oldest first;
// a zero from or to means no bound on that side. Open segments report what has been written
// so far. With seek true, each segment's Fragments are filled in.
func (s *Store) Segments(camera string, from, to time.Time, seek bool) ([]SegmentInfo, error) {
	var out []SegmentInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil {
			return nil
		}
		c := cb.Bucket(bucketSegments).Cursor()
		k, v := c.First()
		if !from.IsZero() {
			k, v = seekOverlap(c, segKey(from))
		}
		for ; k != nil; k, v = c.Next() {
			info, err := decodeSegment(camera, v)
			if err != nil {
				return fmt.Errorf("segment %s/%d: %w", camera, keyTime(k).UnixNano(), err)
			}
			if !to.IsZero() && !info.Start.Before(to) {
				break
			}
			if info.State == StateSealed && !info.End.After(from) && !info.Start.Equal(from) {
				continue
			}
			if seek && info.State == StateSealed {
				if info.Fragments, err = decodeSeek(info.Start, cb.Bucket(bucketSeek).Get(k)); err != nil {
					return err
				}
			}
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.mergeOpen(camera, out, seek), nil
}

// seekOverlap positions c on the last segment starting at or before key (it
// may overlap key), or else on the first one after it.
func seekOverlap(c *bolt.Cursor, key []byte) ([]byte, []byte) {
	k, v := c.Seek(key)
	if k == nil {
		return c.Last()
	}
	if bytes.Equal(k, key) {
		return k, v
	}
	if pk, pv := c.Prev(); pk != nil {
		return pk, pv
	}
	return c.First()
}

// mergeOpen replaces index entries of open segments with their live state.
func (s *Store) mergeOpen(camera string, infos []SegmentInfo, seek bool) []SegmentInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range infos {
		if infos[i].State != StateOpen {
			continue
		}
		if seg := s.openByKey[segmentKey{camera, infos[i].Start.UnixNano()}]; seg != nil {
			infos[i] = seg.Info(seek)
		}
	}
	return infos
}

// removeFile deletes a segment file that the index no longer lists.
func (s *Store) removeFile(rel string) error {
	s.files.forget(rel)
	err := s.root.Remove(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
