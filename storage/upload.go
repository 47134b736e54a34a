package storage

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The upload queue of package tier is not a list of its own: it is the
// index's sealed entries whose UploadMark is UploadNone, read with
// PendingUploads and settled with MarkUpload. A queue derived from the index
// cannot disagree with it, and survives restarts with it. A rebuild of the
// index from the files forgets the marks: every segment is then uploaded
// again, to the same object key.

// MarkUpload sets the upload mark of camera's sealed segment that starts
// at start. It returns an error wrapping ErrNotFound when the index has no
// such entry (retention deleted it meanwhile), and one wrapping ErrCorrupt
// when the entry is not a sealed segment that decodes. m.At is stored in
// UTC (a zero At stays zero).
func (s *Store) MarkUpload(camera string, start time.Time, m UploadMark) error {
	if err := ValidCamera(camera); err != nil {
		return err
	}
	if m.State >= numUploadStates {
		return fmt.Errorf("storage: mark upload: state %v", m.State)
	}
	if m.State != UploadDone {
		m.Key = ""
	}
	if !m.At.IsZero() {
		m.At = m.At.UTC()
	}
	return s.update(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		k := segKey(start)
		var v []byte
		if cb != nil {
			v = cb.Bucket(bucketSegments).Get(k)
		}
		if v == nil {
			return fmt.Errorf("storage: mark upload %s/%d: %w", camera, start.UnixNano(), ErrNotFound)
		}
		info, err := decodeSegment(camera, v)
		if err == nil && info.State != StateSealed {
			err = fmt.Errorf("%w: segment is not sealed", ErrCorrupt)
		}
		var frags []Fragment
		if err == nil {
			frags, err = decodeSeek(info.Start, cb.Bucket(bucketSeek).Get(k))
		}
		if err != nil {
			return fmt.Errorf("storage: mark upload %s/%d: %w", camera, start.UnixNano(), err)
		}
		info.Upload = m
		return cb.Bucket(bucketSegments).Put(k, appendFragCounts(encodeSegment(&info), &info, frags))
	})
}

// PendingUploads returns up to limit of camera's sealed segments whose
// upload state is UploadNone and that start at or after from, oldest
// first, each with its seek table; a zero from is the first entry. resume is where the next scan may begin:
// the start of the first entry at or after from that is open or pending
// (so nothing unsettled is ever skipped), or just after the last entry
// when all were settled; it is from when the camera has no entries.
// Entries that do not decode are skipped. Safe for concurrent use; it
// reads one transaction.
func (s *Store) PendingUploads(camera string, from time.Time, limit int) (pending []SegmentInfo, resume time.Time, err error) {
	resume = from
	err = s.view(func(tx *bolt.Tx) error {
		cb, c, k, v := segmentsFrom(tx, camera, from)
		unsettled := false
		for ; k != nil && len(pending) < limit; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			h, ok := decodeSegHead(v)
			up, upOK := uploadStateOf(v)
			if !ok || !upOK || h.state == StateSealed && up != UploadNone {
				if !unsettled {
					resume = nsTime(keyNs(k) + 1)
				}
				continue
			}
			if !unsettled {
				resume, unsettled = nsTime(keyNs(k)), true
			}
			if h.state != StateSealed {
				continue
			}
			info, err := decodeSegment(camera, v)
			if err == nil {
				info.Fragments, err = decodeSeek(info.Start, cb.Bucket(bucketSeek).Get(k))
			}
			if err == nil {
				pending = append(pending, info)
			}
		}
		return nil
	})
	return pending, resume, err
}

// UploadBacklog is a summary of a camera's upload queue.
type UploadBacklog struct {
	// Segments and Bytes count the sealed entries with no upload mark.
	Segments int
	Bytes    int64
	// OldestEnd is when the first of them ended; zero when there is none.
	OldestEnd time.Time
}

// UploadBacklog summarizes camera's sealed entries whose upload state is
// UploadNone and that start at or after from (a zero from is the first
// entry): every one of them, not a batch. It reads only each entry's head
// and upload state (no allocation per entry), in one read transaction, so
// the cost is a cursor step per entry from from on: PendingUploads' resume
// makes that the queue itself plus what was settled behind its head.
// Entries that do not decode are skipped. Safe for concurrent use.
func (s *Store) UploadBacklog(camera string, from time.Time) (UploadBacklog, error) {
	var b UploadBacklog
	err := s.view(func(tx *bolt.Tx) error {
		_, c, k, v := segmentsFrom(tx, camera, from)
		for ; k != nil; k, v = c.Next() {
			h, ok := decodeSegHead(v)
			up, upOK := uploadStateOf(v)
			if len(k) != 8 || !ok || !upOK || h.state != StateSealed || up != UploadNone {
				continue
			}
			if b.Segments == 0 {
				b.OldestEnd = nsTime(h.end)
			}
			b.Segments++
			b.Bytes += h.bytes
		}
		return nil
	})
	return b, err
}

// segmentsFrom returns camera's bucket and a cursor on its segment entries
// at the first entry at or after from (a zero from is the first entry),
// with that entry; k is nil when there is none or the camera has no
// bucket.
func segmentsFrom(tx *bolt.Tx, camera string, from time.Time) (cb *bolt.Bucket, c *bolt.Cursor, k, v []byte) {
	cb = tx.Bucket(bucketCameras).Bucket([]byte(camera))
	if cb == nil {
		return nil, nil, nil, nil
	}
	c = cb.Bucket(bucketSegments).Cursor()
	if from.IsZero() {
		k, v = c.First()
	} else {
		k, v = c.Seek(segKey(from))
	}
	return cb, c, k, v
}
