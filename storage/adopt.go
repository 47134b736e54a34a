package storage

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// adoptBatch is how many scanned files go into the index per transaction
// when files are adopted (start-up, Reindex, Check): one fsync per batch
// instead of one per file. A batch holds their seek tables in memory.
const adoptBatch = 256

// errNoFragment is why a file without a whole fragment is not adopted.
var errNoFragment = errors.New("no whole fragment")

// adoption is the outcome of adopting one file.
type adoption struct {
	file string
	// fragments is how many fragments the file holds; torn reports a torn
	// tail that was cut off (when cut was asked for).
	fragments int
	torn      bool
	// err says why the file was not indexed; it is then left as it is.
	err error
}

// adoptFiles scans each segment file and indexes it as a sealed segment of
// the camera its path names, keyed by the start in its metadata box. With
// cut, torn tails are truncated away first. A file whose key already holds
// a readable entry is not indexed (that entry wins). done is called once per
// file, after its batch is committed. The error is an index write failure;
// files not yet reported were not indexed.
func (s *Store) adoptFiles(files []string, cut bool, done func(adoption)) error {
	batch := make([]adoption, 0, min(len(files), adoptBatch))
	infos := make([]SegmentInfo, 0, cap(batch))
	for _, rel := range files {
		a := adoption{file: rel}
		var info SegmentInfo
		info, a.err = s.scanForAdoption(rel, cut, &a)
		if a.err != nil {
			done(a)
			continue
		}
		batch, infos = append(batch, a), append(infos, info)
		if len(batch) == adoptBatch {
			if err := s.putAdopted(batch, infos, done); err != nil {
				return err
			}
			batch, infos = batch[:0], infos[:0]
		}
	}
	return s.putAdopted(batch, infos, done)
}

// scanForAdoption scans rel and returns the sealed entry that describes it.
func (s *Store) scanForAdoption(rel string, cut bool, a *adoption) (SegmentInfo, error) {
	camera, _, err := parseSegmentPath(rel)
	if err != nil {
		return SegmentInfo{}, err
	}
	scanned, err := s.scanFile(rel, cut)
	if err != nil {
		return SegmentInfo{}, err
	}
	a.torn = cut && scanned.Torn
	a.fragments = len(scanned.Fragments)
	if a.fragments == 0 {
		return SegmentInfo{}, errNoFragment
	}
	info := SegmentInfo{Camera: camera, Start: scanned.Meta.Start, File: rel}
	sealFromScan(&info, scanned)
	info.Fragments = scanned.Fragments
	return info, nil
}

// putAdopted indexes a batch in one transaction and reports each file.
func (s *Store) putAdopted(batch []adoption, infos []SegmentInfo, done func(adoption)) error {
	if len(batch) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range infos {
			batch[i].err = nil
			if other := indexedAt(tx, &infos[i]); other != "" {
				batch[i].err = fmt.Errorf("the index already has a segment starting at %s: %s",
					infos[i].Start.Format(time.RFC3339Nano), other)
				continue
			}
			if err := putSegmentTx(tx, &infos[i], infos[i].Fragments); err != nil {
				return fmt.Errorf("storage: index %s: %w", infos[i].File, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range batch {
		done(batch[i])
	}
	return nil
}

// indexedAt returns the file of the readable entry with info's camera and
// start, or "" when there is none. An unreadable entry, or one of the same
// file, may be replaced.
func indexedAt(tx *bolt.Tx, info *SegmentInfo) string {
	cb := tx.Bucket(bucketCameras).Bucket([]byte(info.Camera))
	if cb == nil {
		return ""
	}
	segs := cb.Bucket(bucketSegments)
	if segs == nil {
		return ""
	}
	v := segs.Get(segKey(info.Start))
	if v == nil {
		return ""
	}
	other, err := decodeSegment(info.Camera, v)
	if err != nil || other.File == info.File {
		return ""
	}
	return other.File
}
