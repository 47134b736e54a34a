package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errIndexCorrupt marks an index.db that bbolt cannot open or read through.
var errIndexCorrupt = errors.New("index is corrupt")

// indexSummary is what one read pass over the index found.
type indexSummary struct {
	meta indexMeta
	// buckets reports that the cameras bucket exists.
	buckets  bool
	cameras  []string
	segments int
	// open lists the entries left open (by a crash, or by a writer that
	// failed).
	open []SegmentInfo
	// foreign holds the files of entries that lie outside their camera's
	// directory (PutSealed may adopt any file); no camera's listing can
	// tell whether they are referenced.
	foreign map[string]struct{}
	// bad counts entries that do not decode.
	bad int
}

// ownFile reports whether file lies in camera's directory, where a listing
// of recordings/{camera} finds it.
func ownFile(camera, file string) bool {
	return len(file) > len(recordingsDir)+len(camera)+2 && strings.HasPrefix(file, recordingsDir) &&
		file[len(recordingsDir)] == '/' && strings.HasPrefix(file[len(recordingsDir)+1:], camera) &&
		file[len(recordingsDir)+1+len(camera)] == '/'
}

// openIndexFile opens index.db (bbolt creates it when absent and readOnly
// is false) and reads it through once: the meta bucket and every segment
// entry, not the seek tables. A damaged file makes bbolt return "invalid
// database" or a checksum error, panic, or fault on its memory map (a
// truncated file); all of these come back as errIndexCorrupt. The lock
// timeout, permissions and I/O errors do not. After a panic or fault the
// file is closed but its memory map stays until the process exits.
func openIndexFile(root *os.Root, readOnly bool, timeout time.Duration) (db *bolt.DB, sum indexSummary, err error) {
	var file *os.File
	opts := &bolt.Options{Timeout: timeout, ReadOnly: readOnly,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		}}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if db != nil {
			_ = db.Close() // the read transaction was rolled back
		} else if file != nil {
			_ = file.Close() // releases bbolt's lock
		}
		db, err = nil, fmt.Errorf("%w: %v", errIndexCorrupt, r)
	}()
	db, err = bolt.Open(root.Name()+string(os.PathSeparator)+indexFile, 0o640, opts)
	switch {
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return nil, sum, fmt.Errorf("%w: %v", errIndexCorrupt, err)
	case err != nil:
		return nil, sum, err
	}
	if err := db.View(func(tx *bolt.Tx) error { return sum.read(tx, file) }); err != nil {
		db.Close()
		return nil, sum, err
	}
	return db, sum, nil
}

// read fills sum from tx. f is the index file, to compare its size with
// what the meta page claims.
func (sum *indexSummary) read(tx *bolt.Tx, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < tx.Size() {
		return fmt.Errorf("%w: file has %d bytes, its meta page says %d", errIndexCorrupt, st.Size(), tx.Size())
	}
	if sum.meta, err = readIndexMeta(tx); err != nil {
		return fmt.Errorf("%w: %v", errIndexCorrupt, err)
	}
	cams := tx.Bucket(bucketCameras)
	if cams == nil {
		return nil
	}
	sum.buckets = true
	return cams.ForEachBucket(func(k []byte) error {
		cam := string(k)
		sum.cameras = append(sum.cameras, cam)
		segs := cams.Bucket(k).Bucket(bucketSegments)
		if segs == nil {
			return nil
		}
		return segs.ForEach(func(_, v []byte) error {
			sum.add(cam, v)
			return nil
		})
	})
}

func (sum *indexSummary) add(camera string, v []byte) {
	info, err := decodeSegment(camera, v)
	if err != nil {
		sum.bad++
		return
	}
	sum.segments++
	if info.State == StateOpen {
		sum.open = append(sum.open, info)
	}
	if !ownFile(camera, info.File) {
		if sum.foreign == nil {
			sum.foreign = make(map[string]struct{})
		}
		sum.foreign[info.File] = struct{}{}
	}
}
