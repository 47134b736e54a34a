package storage

import (
	"maps"
	"sync/atomic"
	"time"
)

// CameraCounters are one camera's storage counters since the Store was
// opened. They only grow, except the Queued gauge.
type CameraCounters struct {
	// BytesWritten counts segment bytes written and kept: headers and whole
	// fragments (a torn write that was cut off does not count).
	BytesWritten uint64
	// FragmentsWritten counts fragments written (and synced, with
	// SyncFragment).
	FragmentsWritten uint64
	// SegmentsSealed counts segments sealed with at least one fragment.
	SegmentsSealed uint64
	// FragmentsLostToCrash counts torn fragments cut off at start-up repair:
	// one per segment a crash left with a torn tail.
	FragmentsLostToCrash uint64
	// LostToCrash estimates the recording time start-up repair lost: for
	// each segment a crash left open, the time from the end of its last
	// whole fragment (its start, with none) to the file's modification
	// time before repair. That covers the torn tail repair cut off, so it
	// is an upper bound of what repair removed; media still in memory at
	// the crash never reached the file and is not counted.
	LostToCrash time.Duration
	// Queued is a gauge, not a counter: the camera's operations
	// (fragments, creates, seals) waiting in its writer's queue now.
	Queued int
	// WriteErrors counts failed file operations of the writers: creates,
	// writes, fsyncs (a write retried after Reclaim counts once per try).
	WriteErrors uint64
	// NoSpace counts the write errors that were ENOSPC or EDQUOT.
	NoSpace uint64
	// Reclaimed counts bytes that Config.Reclaim reported freed after this
	// camera's writes ran out of space.
	Reclaimed uint64
	// Deleted counts segments and bytes deleted, by reason.
	Deleted [NumDeleteReasons]DeletedCount
}

// DeletedCount is what one deletion reason removed.
type DeletedCount struct {
	Segments uint64
	Bytes    uint64
}

// cameraCounters is the live form of CameraCounters: atomics, so that the
// writers count without a lock and without allocating.
type cameraCounters struct {
	bytesWritten         atomic.Uint64
	fragmentsWritten     atomic.Uint64
	segmentsSealed       atomic.Uint64
	fragmentsLostToCrash atomic.Uint64
	writeErrors          atomic.Uint64
	noSpace              atomic.Uint64
	reclaimed            atomic.Uint64
	lostToCrash          atomic.Int64 // ns
	queued               atomic.Int64
	deleted              [NumDeleteReasons]struct{ segments, bytes atomic.Uint64 }
}

func (c *cameraCounters) snapshot() CameraCounters {
	out := CameraCounters{
		BytesWritten: c.bytesWritten.Load(), FragmentsWritten: c.fragmentsWritten.Load(),
		SegmentsSealed: c.segmentsSealed.Load(), FragmentsLostToCrash: c.fragmentsLostToCrash.Load(),
		WriteErrors: c.writeErrors.Load(), NoSpace: c.noSpace.Load(), Reclaimed: c.reclaimed.Load(),
		LostToCrash: time.Duration(c.lostToCrash.Load()), Queued: int(max(c.queued.Load(), 0)),
	}
	for i := range c.deleted {
		out.Deleted[i] = DeletedCount{Segments: c.deleted[i].segments.Load(), Bytes: c.deleted[i].bytes.Load()}
	}
	return out
}

// countersFor returns camera's counters, creating them on first use. A
// segment looks them up once, at Create; its writes then only touch atomics.
func (s *Store) countersFor(camera string) *cameraCounters {
	s.countersMu.Lock()
	defer s.countersMu.Unlock()
	c := s.counters[camera]
	if c == nil {
		if s.counters == nil {
			s.counters = make(map[string]*cameraCounters)
		}
		c = &cameraCounters{}
		s.counters[camera] = c
	}
	return c
}

// Counters returns camera's counters; a camera storage has not seen has all
// zero.
func (s *Store) Counters(camera string) CameraCounters {
	s.countersMu.Lock()
	c := s.counters[camera]
	s.countersMu.Unlock()
	if c == nil {
		return CameraCounters{}
	}
	return c.snapshot()
}

// AllCounters returns the counters of every camera storage has seen since
// Open, by camera name.
func (s *Store) AllCounters() map[string]CameraCounters {
	s.countersMu.Lock()
	live := maps.Clone(s.counters)
	s.countersMu.Unlock()
	out := make(map[string]CameraCounters, len(live))
	for name, c := range live {
		out[name] = c.snapshot()
	}
	return out
}

// countDeleted counts a segment of bytes deleted for reason; retention
// calls it after the segment's index entry and file are gone.
func (s *Store) countDeleted(camera string, reason DeleteReason, bytes int64) {
	if int(reason) >= NumDeleteReasons {
		return
	}
	d := &s.countersFor(camera).deleted[reason]
	d.segments.Add(1)
	d.bytes.Add(uint64(max(bytes, 0)))
}
