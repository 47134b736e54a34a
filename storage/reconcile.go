package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// reconcile makes the index and the files agree once open segments are
// repaired: entries whose file is gone are removed, and segment files the
// index does not know are adopted (torn tails cut, as Reindex does). It
// lists directories, one camera at a time; it deletes no file. A camera
// whose directory cannot be listed is left as it is. It returns how many
// files were adopted.
func (s *Store) reconcile() (int, error) {
	cams, strays, err := listCameraDirs(s.root)
	if err != nil {
		return 0, fmt.Errorf("storage: list %s: %w", recordingsDir, err)
	}
	for _, st := range strays {
		s.log.Debug("not a camera directory; left as it is", "path", st.path)
	}
	r := &reconciler{s: s, files: entryFiles{root: s.root, stat: make(map[string]bool)}}
	for _, cam := range mergeNames(s.sum.cameras, cams) {
		if err := r.camera(cam); err != nil {
			return r.adopted, err
		}
	}
	return r.adopted, nil
}

// reconciler holds the state of one reconcile pass.
type reconciler struct {
	s       *Store
	adopted int
	files   entryFiles
}

func (r *reconciler) camera(cam string) error {
	s, rep, max := r.s, &r.s.startup, r.s.reportPaths()
	infos, _, err := s.readCamera(cam)
	if err != nil {
		return fmt.Errorf("storage: read index of %s: %w", cam, err)
	}
	l, err := listCamera(s.root, cam)
	if err != nil {
		s.log.Error("camera directory unreadable; its index entries and files are left as they are",
			"camera", cam, "err", err)
		rep.add(&rep.Unreadable, path.Join(recordingsDir, cam)+": "+err.Error(), max)
		return nil
	}
	referenced := make(map[string]struct{}, len(infos))
	var missing []SegmentInfo
	for _, info := range infos {
		referenced[info.File] = struct{}{}
		if !r.files.exists(l, cam, info.File) {
			missing = append(missing, info)
		}
	}
	if err := s.deleteSegments(cam, missing); err != nil {
		return fmt.Errorf("storage: remove entries of missing files: %w", err)
	}
	for _, info := range missing {
		s.log.Warn("segment file missing; index entry removed", "camera", cam, "segment", info.File)
		rep.add(&rep.MissingFiles, info.File, max)
	}
	return s.adoptFiles(r.orphans(l, referenced), true, func(a adoption) {
		if a.torn {
			rep.add(&rep.Torn, a.file, max)
		}
		if a.err != nil {
			s.log.Warn("segment file not in the index and not adoptable; left as it is",
				"camera", cam, "segment", a.file, "err", a.err)
			rep.add(&rep.Unreadable, a.file+": "+a.err.Error(), max)
			return
		}
		r.adopted++
		s.log.Warn("segment file was not in the index; adopted", "camera", cam, "segment", a.file,
			"fragments", a.fragments)
		rep.add(&rep.Adopted, a.file, max)
	})
}

// orphans returns the listed files that no entry references.
func (r *reconciler) orphans(l *cameraListing, referenced map[string]struct{}) []string {
	var out []string
	for _, f := range l.files {
		_, own := referenced[f]
		_, foreign := r.s.sum.foreign[f]
		if !own && !foreign {
			out = append(out, f)
		}
	}
	return out
}

// entryFiles answers whether the files of index entries are on disk: from
// the entry camera's listing when the file lies in its directory, else from
// an Lstat cached here (files outside their camera's directory are few, and
// often shared by many entries).
type entryFiles struct {
	root *os.Root
	stat map[string]bool
}

func (e *entryFiles) exists(l *cameraListing, camera, file string) bool {
	if ownFile(camera, file) {
		return l.exists(e.root, file)
	}
	ok, seen := e.stat[file]
	if !seen {
		_, err := e.root.Lstat(file)
		ok = !errors.Is(err, fs.ErrNotExist)
		e.stat[file] = ok
	}
	return ok
}

// readCamera returns camera's index entries, oldest first, without seek
// tables, and the keys of entries that do not decode.
func (s *Store) readCamera(camera string) (infos []SegmentInfo, bad [][]byte, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
		if cb == nil || cb.Bucket(bucketSegments) == nil {
			return nil
		}
		return cb.Bucket(bucketSegments).ForEach(func(k, v []byte) error {
			info, err := decodeSegment(camera, v)
			if err != nil {
				bad = append(bad, slices.Clone(k))
				return nil
			}
			infos = append(infos, info)
			return nil
		})
	})
	return infos, bad, err
}

// deleteSegments removes entries of camera (not their files) in one
// transaction.
func (s *Store) deleteSegments(camera string, infos []SegmentInfo) error {
	if len(infos) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for i := range infos {
			if err := deleteSegmentTx(tx, camera, segKey(infos[i].Start)); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteSegmentTx removes one entry and its seek table.
func deleteSegmentTx(tx *bolt.Tx, camera string, k []byte) error {
	cb := tx.Bucket(bucketCameras).Bucket([]byte(camera))
	if cb == nil {
		return nil
	}
	if seek := cb.Bucket(bucketSeek); seek != nil {
		if err := seek.Delete(k); err != nil {
			return err
		}
	}
	if segs := cb.Bucket(bucketSegments); segs != nil {
		return segs.Delete(k)
	}
	return nil
}

// mergeNames returns the sorted union of two name lists.
func mergeNames(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
