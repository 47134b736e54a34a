package storage

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// LastEnd returns the end of camera's latest segment in the index (for an
// open segment, what has been written so far), or the zero time when the
// camera has none. Segments of a camera never overlap, so the latest start
// has the latest end.
func (s *Store) LastEnd(camera string) (time.Time, error) {
	var info SegmentInfo
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil {
			return nil
		}
		k, v := cb.Bucket(bucketSegments).Cursor().Last()
		if k == nil {
			return nil
		}
		var err error
		info, err = decodeSegment(camera, v)
		found = err == nil
		return err
	})
	if err != nil || !found {
		return time.Time{}, err
	}
	if info.State == StateOpen {
		if seg := s.openSegment(camera, info.Start); seg != nil {
			return seg.Info(false).End, nil
		}
	}
	return info.End, nil
}
