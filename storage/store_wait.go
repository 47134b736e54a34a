package storage

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// WaitFragments is for time-shift playback: it blocks until the open
// segment of camera that starts at start has more than n fragments, is
// sealed, or ctx ends, and returns the segment's current info with its seek
// table. A sealed segment's info comes back at once. Errors: ctx.Err() when
// ctx ended first; the segment's write error, or ErrClosed when the Store
// closed, if no more fragments can come; ErrNotFound when there is no such
// segment. With ctx, write and ErrClosed errors the info is still the
// segment's current state. The writer wakes waiters after each fragment and
// at seal: nothing polls.
func (s *Store) WaitFragments(ctx context.Context, camera string, start time.Time, n int) (SegmentInfo, error) {
	if seg := s.openSegment(camera, start); seg != nil {
		return seg.waitFragments(ctx, n)
	}
	return s.segmentAt(camera, start)
}

func (seg *Segment) waitFragments(ctx context.Context, n int) (SegmentInfo, error) {
	for {
		seg.mu.Lock()
		ready := len(seg.info.Fragments) > n || seg.info.State == StateSealed
		err := seg.err
		if seg.stopped {
			err = ErrClosed
		}
		if ready || err != nil {
			seg.mu.Unlock()
			if ready {
				err = nil
			}
			return seg.Info(true), err
		}
		if seg.changed == nil {
			seg.changed = make(chan struct{})
		}
		changed := seg.changed
		seg.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return seg.Info(true), ctx.Err()
		}
	}
}

// segmentAt reads one segment, with its seek table when sealed, from the
// index.
func (s *Store) segmentAt(camera string, start time.Time) (SegmentInfo, error) {
	var info SegmentInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil {
			return ErrNotFound
		}
		k := segKey(start)
		v := cb.Bucket(bucketSegments).Get(k)
		if v == nil {
			return ErrNotFound
		}
		var err error
		if info, err = decodeSegment(camera, v); err != nil {
			return err
		}
		if info.State == StateSealed {
			info.Fragments, err = decodeSeek(info.Start, cb.Bucket(bucketSeek).Get(k))
		}
		return err
	})
	if err != nil {
		return SegmentInfo{}, fmt.Errorf("storage: segment %s/%d: %w", camera, start.UnixNano(), err)
	}
	return info, nil
}
