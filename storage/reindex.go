package storage

import (
	"errors"
	"fmt"
	"os"
	"path"

	bolt "go.etcd.io/bbolt"
)

// ReindexReport says what Reindex found.
type ReindexReport struct {
	// ID is the data directory ID written into the new index: the one in
	// recordings/.camvault-id, created when it was missing.
	ID        string
	Segments  int // segments now in the index
	Fragments int // fragments in their seek tables
	Torn      int // files whose torn last fragment was cut off
	// Holds counts the stored holds restored from recordings/.camvault-holds.
	Holds int
	// Skipped lists files that could not be indexed, and entries under
	// recordings/ that are not segment files, with the reason. They are
	// left on disk untouched.
	Skipped []string
}

// Reindex rebuilds the index from the segment files alone, replacing
// index.db. camvault must not be running on the data directory: the index
// lock is taken first and Reindex fails if it cannot be. Torn tails are cut
// as at start-up; no file is ever deleted. The new index carries the data
// directory ID of recordings/ (a new one is written there when it has
// none), so Reindex is also the way to pair an index with another disk.
func Reindex(cfg Config) (ReindexReport, error) {
	var rep ReindexReport
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
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
	if rep.ID, err = readFileID(root); err != nil {
		return rep, err
	}
	if rep.ID == "" {
		rep.ID = newDataID()
		if err := writeFileID(root, rep.ID); err != nil {
			return rep, err
		}
	}
	tmpName := indexFile + ".reindex"
	_ = root.Remove(tmpName) // a leftover of an interrupted reindex
	tmp, err := bolt.Open(path.Join(cfg.Dir, tmpName), 0o640, &bolt.Options{Timeout: cfg.IndexTimeout})
	if err != nil {
		return rep, fmt.Errorf("storage: create new index: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With("component", "reindex"), root: root, db: tmp}
	holds, err := readHolds(root, cfg.MaxHolds)
	if err != nil {
		tmp.Close()
		return rep, err
	}
	err = tmp.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketCameras); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bucketHolds)
		if err != nil {
			return err
		}
		if rep.Holds, err = putHolds(b, holds); err != nil {
			return err
		}
		return putIndexMeta(tx, rep.ID)
	})
	if err == nil {
		err = s.indexFiles(&rep)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, err
	}
	if err := root.Rename(tmpName, indexFile); err != nil {
		return rep, fmt.Errorf("storage: replace index: %w", err)
	}
	if err := syncDir(root, "."); err != nil {
		return rep, fmt.Errorf("storage: replace index: %w", err)
	}
	return rep, nil
}

// indexFiles indexes every segment file under recordings/, camera by
// camera.
func (s *Store) indexFiles(rep *ReindexReport) error {
	cams, strays, err := listCameraDirs(s.root)
	if err != nil {
		return fmt.Errorf("storage: list %s: %w", recordingsDir, err)
	}
	for _, st := range strays {
		rep.Skipped = append(rep.Skipped, st.String())
	}
	for _, cam := range cams {
		l, err := listCamera(s.root, cam)
		if err != nil {
			return fmt.Errorf("storage: list camera %s: %w", cam, err)
		}
		for _, st := range l.strays {
			rep.Skipped = append(rep.Skipped, st.String())
		}
		err = s.adoptFiles(l.files, true, func(a adoption) {
			if a.torn {
				rep.Torn++
			}
			if a.err != nil {
				rep.Skipped = append(rep.Skipped, a.file+": "+a.err.Error())
				return
			}
			rep.Segments++
			rep.Fragments += a.fragments
		})
		if err != nil {
			return err
		}
	}
	return nil
}
