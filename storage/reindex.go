package storage

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ReindexReport says what Reindex found.
type ReindexReport struct {
	Segments  int // segments now in the index
	Fragments int // fragments in their seek tables
	Torn      int // files whose torn last fragment was cut off
	// Skipped lists files that could not be indexed, with the reason. They
	// are left on disk untouched.
	Skipped []string
}

// Reindex rebuilds the index from the segment files alone, replacing
// index.db. camvault must not be running on the data directory: the index
// lock is taken first and Reindex fails if it cannot be. Torn tails are cut
// as at start-up; no file is ever deleted.
func Reindex(cfg Config) (ReindexReport, error) {
	var rep ReindexReport
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return rep, err
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return rep, fmt.Errorf("storage: open data directory: %w", err)
	}
	defer root.Close()
	// Hold the old index's lock while rebuilding, so a running server is
	// detected. A corrupt old index is simply replaced.
	old, err := bolt.Open(path.Join(cfg.Dir, indexFile), 0o640, &bolt.Options{Timeout: cfg.IndexTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return rep, fmt.Errorf("storage: index is in use; stop camvault first: %w", err)
	}
	if err == nil {
		defer old.Close()
	}
	tmpName := indexFile + ".reindex"
	_ = root.Remove(tmpName) // a leftover of an interrupted reindex
	tmp, err := bolt.Open(path.Join(cfg.Dir, tmpName), 0o640, &bolt.Options{Timeout: cfg.IndexTimeout})
	if err != nil {
		return rep, fmt.Errorf("storage: create new index: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With("component", "reindex"), root: root, db: tmp}
	if err := tmp.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCameras)
		return err
	}); err != nil {
		tmp.Close()
		return rep, err
	}
	err = s.indexFiles(&rep)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, err
	}
	if err := root.Rename(tmpName, indexFile); err != nil {
		return rep, fmt.Errorf("storage: replace index: %w", err)
	}
	return rep, nil
}

// indexFiles walks recordings/{camera}/{day}/*.mp4 in order.
func (s *Store) indexFiles(rep *ReindexReport) error {
	cams, err := s.readDir(recordingsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, cam := range cams {
		if ValidCamera(cam) != nil {
			rep.Skipped = append(rep.Skipped, path.Join(recordingsDir, cam)+": not a camera name")
			continue
		}
		days, err := s.readDir(path.Join(recordingsDir, cam))
		if err != nil {
			return err
		}
		for _, day := range days {
			files, err := s.readDir(path.Join(recordingsDir, cam, day))
			if err != nil {
				return err
			}
			for _, name := range files {
				if strings.HasSuffix(name, segmentExt) {
					s.indexFile(path.Join(recordingsDir, cam, day, name), rep)
				}
			}
		}
	}
	return nil
}

func (s *Store) indexFile(rel string, rep *ReindexReport) {
	camera, _, err := parseSegmentPath(rel)
	if err != nil {
		rep.Skipped = append(rep.Skipped, rel+": "+err.Error())
		return
	}
	scanned, err := s.scanFile(rel, true)
	if err != nil {
		rep.Skipped = append(rep.Skipped, rel+": "+err.Error())
		return
	}
	if len(scanned.Fragments) == 0 {
		rep.Skipped = append(rep.Skipped, rel+": no whole fragment")
		return
	}
	last := scanned.Fragments[len(scanned.Fragments)-1]
	info := SegmentInfo{Camera: camera, Start: scanned.Meta.Start, End: last.End(), File: rel,
		Bytes: scanned.ValidEnd, State: StateSealed, Tracks: scanned.Tracks}
	if err := s.putSegment(&info, scanned.Fragments); err != nil {
		rep.Skipped = append(rep.Skipped, rel+": "+err.Error())
		return
	}
	rep.Segments++
	rep.Fragments += len(scanned.Fragments)
	if scanned.Torn {
		rep.Torn++
	}
}

// readDir lists a directory under the root, sorted.
func (s *Store) readDir(rel string) ([]string, error) {
	d, err := s.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}
