package storage

import (
	"os"
)

// fileSystem is what the segment writers do to the data directory. rootFS,
// on the Store's os.Root, is the real one; a FaultPlan in Config wraps it to
// inject failures (fault.go). Names are slash-separated and relative to the
// data directory.
type fileSystem interface {
	// mkdir creates one directory; it fails with fs.ErrExist when it is
	// there already.
	mkdir(name string) error
	// create creates a new segment file for writing; it fails when the file
	// exists.
	create(name string) (segmentFile, error)
	// syncDir makes the entries of directory name durable.
	syncDir(name string) error
	// remove deletes a file.
	remove(name string) error
}

// segmentFile is a segment file open for writing. Writes are positional,
// so a torn write followed by a truncate and a retry never leaves a hole.
type segmentFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	// Datasync flushes the data and the size, not other metadata.
	Datasync() error
	// Sync flushes data and metadata.
	Sync() error
	Close() error
}

// rootFS is the data directory itself.
type rootFS struct{ root *os.Root }

func (r rootFS) mkdir(name string) error { return r.root.Mkdir(name, 0o750) }

func (r rootFS) create(name string) (segmentFile, error) {
	f, err := r.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (r rootFS) syncDir(name string) error {
	d, err := r.root.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (r rootFS) remove(name string) error { return r.root.Remove(name) }

// osFile adds Datasync to *os.File. It is pointer-shaped: storing it in a
// segmentFile does not allocate.
type osFile struct{ *os.File }

func (f osFile) Datasync() error { return fdatasync(f.File) }

// fsys returns the file layer of the writers: the data directory, wrapped
// by the fault plan when one is configured.
func (s *Store) fsys() fileSystem {
	if s.cfg.Faults != nil {
		return faultFS{inner: rootFS{s.root}, plan: s.cfg.Faults}
	}
	return rootFS{s.root}
}
