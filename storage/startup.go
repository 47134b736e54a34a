package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StartupReport says what Open found in the data directory and what it did
// about it. Paths are relative to the data directory.
type StartupReport struct {
	// ID is the data directory ID shared by index.db and recordings/.
	ID string
	// Rebuilt reports that index.db was missing or corrupt and was rebuilt
	// from the segment files.
	Rebuilt bool
	// Repaired lists segments a crash left open that were sealed.
	Repaired []string
	// Torn lists files whose torn last fragment was cut off.
	Torn []string
	// MissingFiles lists files of sealed index entries that were gone; their
	// entries were removed.
	MissingFiles []string
	// Adopted lists segment files the index did not know; they are indexed
	// now.
	Adopted []string
	// Unreadable lists files and directories, each with the reason, that
	// could not be repaired or adopted. They are left as they are.
	Unreadable []string
	// Omitted counts the paths left out of the lists above because each
	// list holds at most Config.ReportPaths.
	Omitted int
	// Took is how long Open took, start-up checks and repairs included.
	Took time.Duration
}

// add appends p to list unless the list is full.
func (r *StartupReport) add(list *[]string, p string, max int) {
	if len(*list) >= max {
		r.Omitted++
		return
	}
	*list = append(*list, p)
}

// StartupReport returns what Open found and did. The slices are shared:
// callers must not modify them.
func (s *Store) StartupReport() StartupReport { return s.startup }

// startUp opens the index, makes sure index and recordings/ belong to one
// data directory, repairs segments a crash left open and reconciles the
// index with the files. On error s.db may be open; the caller closes it.
func (s *Store) startUp(began time.Time) error {
	existed, err := s.openIndex()
	if err != nil {
		return err
	}
	sum := &s.sum
	if err := s.settleID(existed); err != nil {
		return err
	}
	if err := s.settleHolds(); err != nil {
		return err
	}
	if sum.bad > 0 {
		s.log.Error("index entries do not decode; `camvault check -repair` removes them", "entries", sum.bad)
	}
	if err := s.repair(sum.open); err != nil {
		return err
	}
	adopted, err := s.reconcile()
	if err != nil {
		return err
	}
	rep := &s.startup
	rep.Rebuilt = rep.Rebuilt || !existed && adopted > 0
	rep.Took = time.Since(began)
	s.logStartup(existed, adopted)
	s.sum = indexSummary{} // not needed past start-up
	return nil
}

// openIndex opens index.db into s.db and s.sum. A corrupt index is renamed
// to index.db.corrupt-{UTC time} and a new one created (reconcile then
// fills it from the files). existed reports an index.db that was usable.
func (s *Store) openIndex() (existed bool, err error) {
	if _, err := s.root.Stat(indexFile); err == nil {
		existed = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("storage: open index %s: %w", indexFile, err)
	}
	db, sum, err := openIndexFile(s.root, false, s.cfg.IndexTimeout)
	if errors.Is(err, errIndexCorrupt) {
		aside := fmt.Sprintf("%s.corrupt-%s", indexFile, time.Now().UTC().Format("20060102T150405.000Z"))
		s.log.Error("index.db is corrupt; setting it aside and rebuilding the index from the files",
			"err", err, "path", aside)
		if rerr := s.root.Rename(indexFile, aside); rerr != nil {
			return false, fmt.Errorf("storage: set corrupt index aside: %w (it is corrupt: %v)", rerr, err)
		}
		existed, s.startup.Rebuilt = false, true
		db, sum, err = openIndexFile(s.root, false, s.cfg.IndexTimeout)
	}
	if errors.Is(err, bolt.ErrTimeout) {
		return false, fmt.Errorf("storage: open index %s: in use by another camvault (waited %v): %w",
			indexFile, s.cfg.IndexTimeout, err)
	}
	if err != nil {
		return false, fmt.Errorf("storage: open index %s: %w", indexFile, err)
	}
	s.db, s.sum = db, sum
	return existed, nil
}

// settleID compares the IDs of index.db and recordings/ and writes the
// missing side where that is safe: see Open.
func (s *Store) settleID(existed bool) error {
	meta := s.sum.meta
	if meta.Format > indexFormat {
		return fmt.Errorf("%w: index.db has format %d, this camvault reads up to %d: run the newer camvault, "+
			"or move index.db away and run `camvault reindex` to rebuild it from the files", ErrNewerIndex, meta.Format, indexFormat)
	}
	fileID, err := readFileID(s.root)
	if err != nil {
		return err
	}
	s.startup.ID = meta.ID
	switch {
	case meta.ID != "" && fileID == meta.ID:
		return s.createBuckets()
	case meta.ID != "" && fileID != "":
		return fmt.Errorf("%w: index.db belongs to data directory %s but recordings/ is %s: a restored backup "+
			"or the wrong disk? Mount the right disk, or run `camvault reindex` to rebuild the index from the "+
			"files on this disk", ErrWrongDataDir, meta.ID, fileID)
	case meta.ID != "" && s.sum.segments+s.sum.bad > 0:
		return fmt.Errorf("%w: index.db belongs to data directory %s and lists %d segments, but recordings/%s "+
			"is missing: is the recordings disk mounted? Mount it, or run `camvault reindex` to rebuild the "+
			"index from the files that are there", ErrNoDataDirID, meta.ID, s.sum.segments, idFile)
	case meta.ID != "":
		s.log.Info("data directory ID written to recordings/", "id", meta.ID)
		if err := writeFileID(s.root, meta.ID); err != nil {
			return err
		}
		return s.createBuckets()
	}
	// An index without ID: new, or from before IDs. The files' side wins.
	id := fileID
	if id == "" {
		id = newDataID()
		if err := writeFileID(s.root, id); err != nil {
			return err
		}
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketCameras); err != nil {
			return err
		}
		return putIndexMeta(tx, id)
	})
	if err != nil {
		return fmt.Errorf("storage: write data directory ID to index: %w", err)
	}
	s.startup.ID = id
	if existed {
		s.log.Info("index.db had no data directory ID; adopted one", "id", id, "from_recordings", fileID != "")
	}
	return nil
}

// createBuckets creates the cameras bucket of an index that lacks it.
func (s *Store) createBuckets() error {
	if s.sum.buckets {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCameras)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: init index: %w", err)
	}
	return nil
}

// logStartup writes one line that sums up start-up.
func (s *Store) logStartup(existed bool, adopted int) {
	r := &s.startup
	attrs := []any{"id", r.ID, "repaired", len(r.Repaired), "torn", len(r.Torn),
		"missing_files", len(r.MissingFiles), "adopted", adopted, "unreadable", len(r.Unreadable),
		"omitted", r.Omitted, "dur", r.Took}
	switch {
	case r.Rebuilt:
		s.log.Warn("index rebuilt from the segment files", attrs...)
	case !existed:
		s.log.Info("new data directory", attrs...)
	case len(r.MissingFiles)+len(r.Unreadable)+r.Omitted > 0:
		s.log.Warn("data directory opened; index and files disagreed", attrs...)
	default:
		s.log.Info("data directory opened", attrs...)
	}
}

// reportPaths is the cap of each StartupReport list.
func (s *Store) reportPaths() int {
	if s.cfg.ReportPaths > 0 {
		return s.cfg.ReportPaths
	}
	return DefaultReportPaths
}
