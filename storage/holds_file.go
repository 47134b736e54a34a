package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"time"

	bolt "go.etcd.io/bbolt"
)

// recordings/.camvault-holds mirrors the index's holds bucket, so that a
// rebuild of the index from the files keeps the holds: the files are the
// source of truth for recordings, and this file is the one for holds.
// AddHold and RemoveHold rewrite it after their index transaction commits
// (a crash or failed write in between leaves the file one change behind,
// which the next change or Open puts right from the index: the index is
// the truth). Open writes it from the index when they differ, and restores
// the bucket from it when the index has none (a new or rebuilt index);
// Reindex restores it too.
//
//	"camvault holds 1\n" {id(uvarint len + bytes) value(uvarint len + bytes)}
//
// where value is the index value (encodeHold).
const (
	holdsFile  = ".camvault-holds"
	holdsTemp  = holdsFile + ".tmp"
	holdsMagic = "camvault holds 1\n"
	// maxHoldValue bounds one encoded hold: the fixed fields, a camera
	// name and a reason, with their lengths.
	maxHoldValue = 1 + 24 + 2 + 64 + 2 + MaxHoldReason
	// maxHoldRecord bounds one record of the file.
	maxHoldRecord = 1 + holdIDLen + 2 + maxHoldValue
)

// encodeHoldsFile returns the file's content for the holds in b.
func encodeHoldsFile(b *bolt.Bucket) []byte {
	out := []byte(holdsMagic)
	_ = b.ForEach(func(k, v []byte) error { // fn never fails, so neither does ForEach
		out = appendString(out, string(k))
		out = appendString(out, string(v))
		return nil
	})
	return out
}

// decodeHoldsFile parses the file's content; a record that does not decode
// makes the whole file an error wrapping ErrCorrupt.
func decodeHoldsFile(data []byte) ([]StoredHold, error) {
	if !bytes.HasPrefix(data, []byte(holdsMagic)) {
		return nil, fmt.Errorf("%w: no holds file header", ErrCorrupt)
	}
	r := valueReader{b: data, pos: len(holdsMagic)}
	var out []StoredHold
	for r.pos < len(data) && r.err == nil {
		k := r.bytes(holdIDLen)
		v := r.bytes(maxHoldValue)
		if r.err != nil {
			break
		}
		h, err := decodeHold(k, v)
		if err != nil {
			return nil, fmt.Errorf("holds file record %d: %w", len(out), err)
		}
		out = append(out, h)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: holds file at byte %d", ErrCorrupt, r.pos)
	}
	return out, nil
}

// bytes reads a length-prefixed byte string of at most limit bytes; the
// result aliases r.b.
func (r *valueReader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(limit) || n > uint64(len(r.b)-r.pos) {
		r.fail()
		return nil
	}
	r.pos += int(n)
	return r.b[r.pos-int(n) : r.pos]
}

// writeHoldsFile replaces the holds file durably.
func writeHoldsFile(root *os.Root, data []byte) error {
	if err := writeDurable(root, holdsFile, data); err != nil {
		return fmt.Errorf("storage: write %s: %w", holdsFile, err)
	}
	return nil
}

// readHoldsFile returns the holds file's content, nil when it does not
// exist. It reads at most maxHolds records' worth.
func readHoldsFile(root *os.Root, maxHolds int) ([]byte, error) {
	f, err := root.Open(path.Join(recordingsDir, holdsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := int64(len(holdsMagic)) + int64(maxHolds)*maxHoldRecord
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%w: more than %d holds", ErrCorrupt, maxHolds)
	}
	return data, err
}

// readHolds returns the holds of the holds file, none when it does not
// exist. For Reindex: a file that cannot be parsed is an error (move it
// away to rebuild without its holds).
func readHolds(root *os.Root, maxHolds int) ([]StoredHold, error) {
	data, err := readHoldsFile(root, maxHolds)
	if err == nil && data != nil {
		var holds []StoredHold
		if holds, err = decodeHoldsFile(data); err == nil {
			return holds, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: recordings/%s: %w; move it away to rebuild the index without its holds",
			holdsFile, err)
	}
	return nil, nil
}

// settleHolds makes the index's holds bucket and the holds file agree at
// Open: an index without the bucket (new, rebuilt, or from before holds)
// takes the file's holds; otherwise the file is rewritten from the index
// when it differs. A file that cannot be parsed is set aside as
// .camvault-holds.corrupt-{UTC time} and logged: the index's holds (none,
// in a rebuilt index) stand.
func (s *Store) settleHolds() error {
	data, err := readHoldsFile(s.root, s.cfg.MaxHolds)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("storage: read %s: %w", holdsFile, err)
	}
	var fromFile []StoredHold
	if err == nil && data != nil {
		fromFile, err = decodeHoldsFile(data)
	}
	if err != nil {
		s.setHoldsFileAside(err)
		data = nil
	}
	var restored int
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHolds)
		if b == nil {
			if b, err = tx.CreateBucket(bucketHolds); err != nil {
				return err
			}
			if restored, err = putHolds(b, fromFile); err != nil {
				return err
			}
		}
		if cur := encodeHoldsFile(b); data != nil || b.Stats().KeyN > 0 {
			if !bytes.Equal(cur, data) {
				return writeHoldsFile(s.root, cur)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: settle holds: %w", err)
	}
	if restored > 0 {
		s.log.Warn("holds restored from recordings/"+holdsFile, "holds", restored)
	}
	return nil
}

// putHolds stores holds into b and returns how many.
func putHolds(b *bolt.Bucket, holds []StoredHold) (int, error) {
	for i := range holds {
		if err := b.Put([]byte(holds[i].ID), encodeHold(&holds[i])); err != nil {
			return i, err
		}
	}
	return len(holds), nil
}

// setHoldsFileAside renames a holds file that cannot be read.
func (s *Store) setHoldsFileAside(cause error) {
	from := path.Join(recordingsDir, holdsFile)
	to := fmt.Sprintf("%s.corrupt-%s", from, time.Now().UTC().Format("20060102T150405.000Z"))
	err := s.root.Rename(from, to)
	s.log.LogAttrs(context.Background(), slog.LevelError, "holds file unreadable; set aside, holds not restored from it",
		slog.String("path", to), slog.Any("err", cause), slog.Any("rename_err", err))
}
