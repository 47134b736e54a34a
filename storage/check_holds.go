package storage

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ProblemHold: a stored hold (AddHold) that does not decode, or
// recordings/.camvault-holds that does not hold what the index's holds
// bucket holds. Fixed: the file is rewritten from the index. A hold that
// does not decode is only reported: retention cannot honour it, and only
// the index tells what it was.
const ProblemHold = "hold"

// holds checks the holds bucket and its mirror file (see holds_file.go).
// An index without the bucket (from before holds) has nothing to check.
func (c *checker) holds() error {
	var want []byte
	err := c.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHolds)
		if b == nil {
			return nil
		}
		want = encodeHoldsFile(b)
		return b.ForEach(func(k, v []byte) error {
			if _, err := decodeHold(k, v); err != nil {
				c.report(Problem{File: indexFile, Kind: ProblemHold, Detail: err.Error()}, nil)
			}
			return nil
		})
	})
	if err != nil || want == nil {
		return err
	}
	got, err := readHoldsFile(c.s.root, c.s.cfg.MaxHolds)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("storage: read %s: %w", holdsFile, err)
	}
	empty := len(want) == len(holdsMagic)
	if bytes.Equal(got, want) || got == nil && empty {
		return nil
	}
	f := &fix{}
	c.report(Problem{File: recordingsDir + "/" + holdsFile, Kind: ProblemHold,
		Detail: "does not match the index's holds"}, f)
	if !c.opts.Repair {
		return nil
	}
	if err := writeHoldsFile(c.s.root, want); err != nil {
		return err
	}
	c.fixed(f)
	return nil
}
