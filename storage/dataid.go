package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// A data directory carries a random 128-bit ID twice: in
// recordings/.camvault-id and in index.db's meta bucket. Open refuses an
// index and recordings that disagree, so a restored backup of index.db or a
// wrong disk is detected before anything is "cleaned" to match.
const (
	// idFile holds the ID on the recordings side: 32 hex digits and a
	// newline.
	idFile = ".camvault-id"
	idTemp = idFile + ".tmp"
	// idHexLen is the length of an ID in hex digits.
	idHexLen = 32
	// indexFormat is the index layout this build writes, and the newest it
	// reads. Index files without a format key are format 1.
	indexFormat = 1
)

var (
	bucketMeta    = []byte("meta")
	metaKeyID     = []byte("id")
	metaKeyFormat = []byte("format")
)

// newDataID returns a fresh random ID in hex.
func newDataID() string {
	var b [idHexLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes instead)
	return hex.EncodeToString(b[:])
}

// validDataID reports whether id is 32 lowercase hex digits.
func validDataID(id string) bool {
	if len(id) != idHexLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// readFileID returns the ID in recordings/.camvault-id, or "" when the file
// does not exist. A file that holds anything but an ID is an error.
func readFileID(root *os.Root) (string, error) {
	name := path.Join(recordingsDir, idFile)
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: read data directory ID: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 2*idHexLen))
	if err != nil {
		return "", fmt.Errorf("storage: read data directory ID: %w", err)
	}
	id, err := parseFileID(b)
	if err != nil {
		return "", fmt.Errorf("storage: %s: %w; move it away to have a new one written", name, err)
	}
	return id, nil
}

// parseFileID parses the content of the ID file: the ID, optionally
// surrounded by white space.
func parseFileID(b []byte) (string, error) {
	id := strings.TrimSpace(string(b))
	if !validDataID(id) {
		return "", fmt.Errorf("%w: not a data directory ID (%d bytes)", ErrCorrupt, len(b))
	}
	return id, nil
}

// writeFileID makes recordings/.camvault-id hold id durably (writeDurable).
func writeFileID(root *os.Root, id string) error {
	if err := writeDurable(root, idFile, []byte(id+"\n")); err != nil {
		return fmt.Errorf("storage: write data directory ID: %w", err)
	}
	return nil
}

// writeDurable makes recordings/{name} hold data durably: a temporary file
// is written and fsynced, renamed over it, and the directory fsynced.
func writeDurable(root *os.Root, name string, data []byte) error {
	if err := root.MkdirAll(recordingsDir, 0o750); err != nil {
		return err
	}
	tmp := path.Join(recordingsDir, name+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, path.Join(recordingsDir, name))
	}
	if err == nil {
		err = syncDir(root, recordingsDir)
	}
	return err
}

// syncDir fsyncs a directory under root, making renames and creations in it
// durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// indexMeta is the content of index.db's meta bucket.
type indexMeta struct {
	// ID is the data directory ID; "" in an index from before IDs.
	ID string
	// Format is the index layout version (1 when the key is absent).
	Format uint64
}

// readIndexMeta reads the meta bucket; a missing bucket gives an empty ID
// and format 1.
func readIndexMeta(tx *bolt.Tx) (indexMeta, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return indexMeta{Format: 1}, nil
	}
	return parseIndexMeta(b.Get(metaKeyID), b.Get(metaKeyFormat))
}

// parseIndexMeta parses the meta bucket's values; nil means absent.
func parseIndexMeta(id, format []byte) (indexMeta, error) {
	m := indexMeta{Format: 1}
	if format != nil {
		f, err := strconv.ParseUint(string(format), 10, 32)
		if err != nil {
			return m, fmt.Errorf("%w: index format %.20q", ErrCorrupt, format)
		}
		m.Format = f
	}
	if id != nil {
		if !validDataID(string(id)) {
			return m, fmt.Errorf("%w: index data directory ID %.40q", ErrCorrupt, id)
		}
		m.ID = string(id)
	}
	return m, nil
}

// putIndexMeta stores id and this build's index format. Both are ASCII, so
// `bbolt get index.db meta id` shows them.
func putIndexMeta(tx *bolt.Tx, id string) error {
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if err := b.Put(metaKeyFormat, []byte(strconv.Itoa(indexFormat))); err != nil {
		return err
	}
	return b.Put(metaKeyID, []byte(id))
}
