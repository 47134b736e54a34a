package storage

import (
	"errors"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"
)

// reserveFile holds Config.IndexReserve bytes of real disk blocks beside
// index.db. bbolt never rewrites pages in place: even a transaction that
// only deletes entries writes new pages, so on a full file system the
// retention pass that would free space could not commit. When an index
// write fails for lack of space, the reserve is released and the write
// retried; retention passes put it back once there is room again.
const reserveFile = "index.reserve"

// update runs an index write transaction. One that fails for lack of space
// releases the reserve and is tried once more.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	err := s.db.Update(fn)
	if err == nil || !isNoSpace(err) || !s.releaseReserve() {
		return err
	}
	return s.db.Update(fn)
}

// releaseReserve deletes the reserve file and reports whether it did.
func (s *Store) releaseReserve() bool {
	s.reserveMu.Lock()
	defer s.reserveMu.Unlock()
	if !s.reserved {
		return false
	}
	if err := s.root.Remove(reserveFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("disk full; cannot release the index reserve", "err", err)
		return false
	}
	s.reserved = false
	s.log.Warn("disk full; released the index reserve so the index can still be written",
		"bytes", s.cfg.IndexReserve)
	return true
}

// ensureReserve creates the reserve file when it is missing and there is
// room for it; it is called at Open and after retention passes. A partial
// reserve (the disk filled meanwhile) is removed again.
func (s *Store) ensureReserve() {
	if s.cfg.IndexReserve <= 0 {
		return
	}
	s.reserveMu.Lock()
	defer s.reserveMu.Unlock()
	if s.reserved {
		return
	}
	f, err := s.root.OpenFile(reserveFile, os.O_WRONLY|os.O_CREATE, 0o640)
	if err == nil {
		err = allocate(f, s.cfg.IndexReserve)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = s.root.Remove(reserveFile)
		if !isNoSpace(err) {
			s.log.Error("cannot create the index reserve", "err", err)
		}
		return
	}
	s.reserved = true
}

// writeZeros gives f size bytes of real blocks by writing zeros, where
// fallocate(2) is missing.
func writeZeros(f *os.File, size int64) error {
	zero := make([]byte, 64<<10)
	for off := int64(0); off < size; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero[:min(int64(len(zero)), size-off)], off); err != nil {
			return err
		}
	}
	return f.Sync()
}
