package storage

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Stored holds live in the index's top-level "holds" bucket, never among
// the camera buckets (which are all under "cameras"), keyed by ID. Every
// change also rewrites recordings/.camvault-holds (see holds_file.go), so a
// rebuild of the index from the files (Reindex, or Open with a missing or
// corrupt index.db) keeps them.
var bucketHolds = []byte("holds")

// MaxHoldReason is the longest StoredHold.Reason AddHold accepts, in bytes.
const MaxHoldReason = 1024

// holdIDLen is the length of an ID made by AddHold: 16 random bytes in
// unpadded base64url.
const holdIDLen = 22

// StoredHold is a hold added at run time (through the API), kept in the
// index across restarts and rebuilds. Retention treats it exactly like a
// configured Hold of its camera: a segment overlapping [From, To) survives
// every rule.
type StoredHold struct {
	// ID names the hold: 22 URL-safe characters, assigned by AddHold.
	ID string
	// Camera is the camera whose recordings are held.
	Camera string
	// From is the start of the held span (required). To is its end; a
	// zero To holds everything from From on, until the hold is removed.
	From, To time.Time
	// Reason says why, for people (at most MaxHoldReason bytes).
	Reason string
	// Created is when AddHold stored it (UTC).
	Created time.Time
}

// hold returns the retention form of h.
func (h *StoredHold) hold() Hold { return Hold{From: h.From, To: h.To, Reason: h.Reason} }

// validate checks what AddHold accepts.
func (h *StoredHold) validate() error {
	if err := ValidCamera(h.Camera); err != nil {
		return err
	}
	switch {
	case h.From.IsZero():
		return fmt.Errorf("%w: it needs a start", ErrInvalidHold)
	case !h.To.IsZero() && !h.To.After(h.From):
		return fmt.Errorf("%w: its end %v is not after its start %v", ErrInvalidHold, h.To, h.From)
	case len(h.Reason) > MaxHoldReason:
		return fmt.Errorf("%w: reason of %d bytes is longer than %d", ErrInvalidHold, len(h.Reason), MaxHoldReason)
	}
	return nil
}

// AddHold stores a hold on h.Camera's recordings of [h.From, h.To) and
// returns it with a new random ID and Created set; ID and Created given
// are ignored, times are kept in UTC at nanosecond precision. From is
// required; a zero To holds without end. A camera name that fails
// ValidCamera gives ErrInvalidCamera, other refusals ErrInvalidHold, and
// ErrTooManyHolds when Config.MaxHolds are stored. A retention pass under
// way honours the hold from its next batch on. The hold is committed to
// the index and to recordings/.camvault-holds before AddHold returns.
func (s *Store) AddHold(h StoredHold) (StoredHold, error) {
	if err := h.validate(); err != nil {
		return StoredHold{}, err
	}
	h.ID, h.From, h.To, h.Created = "", h.From.UTC(), h.To.UTC(), time.Now().UTC()
	err := s.updateHolds(func(b *bolt.Bucket) error {
		if n := b.Stats().KeyN; n >= s.cfg.MaxHolds {
			return fmt.Errorf("%w: %d stored, the limit is %d", ErrTooManyHolds, n, s.cfg.MaxHolds)
		}
		for h.ID == "" || b.Get([]byte(h.ID)) != nil {
			h.ID = newHoldID()
		}
		return b.Put([]byte(h.ID), encodeHold(&h))
	})
	if err != nil {
		return StoredHold{}, err
	}
	s.log.Info("hold added", "camera", h.Camera, "hold", h.ID, "from", h.From, "to", h.To, "reason", h.Reason)
	return h, nil
}

// RemoveHold deletes the stored hold id; ErrNotFound when there is none.
// Retention may delete the recordings it held from its next pass on.
func (s *Store) RemoveHold(id string) error {
	err := s.updateHolds(func(b *bolt.Bucket) error {
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("storage: hold %q: %w", id, ErrNotFound)
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return err
	}
	s.log.Info("hold removed", "hold", id)
	return nil
}

// Holds returns the stored holds of camera ("" for all cameras), ordered by
// From, then ID. A name that fails ValidCamera gives ErrInvalidCamera.
// Entries that do not decode are left out.
func (s *Store) Holds(camera string) ([]StoredHold, error) {
	if camera != "" {
		if err := ValidCamera(camera); err != nil {
			return nil, err
		}
	}
	var out []StoredHold
	err := s.view(func(tx *bolt.Tx) error {
		return forEachHold(tx, func(h *StoredHold) {
			if camera == "" || h.Camera == camera {
				out = append(out, *h)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b StoredHold) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// updateHolds runs fn on the holds bucket in a write transaction and, in
// the same transaction, rewrites the holds file: a failed file write
// rolls the change back.
func (s *Store) updateHolds(fn func(*bolt.Bucket) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketHolds)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		return writeHoldsFile(s.root, encodeHoldsFile(b))
	})
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// forEachHold calls fn with every stored hold that decodes; fn must not
// keep h.
func forEachHold(tx *bolt.Tx, fn func(h *StoredHold)) error {
	b := tx.Bucket(bucketHolds)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if h, err := decodeHold(k, v); err == nil {
			fn(&h)
		}
		return nil
	})
}

// storedHolds returns the stored holds by camera, in retention's form, as
// tx sees them; nil when there are none.
func storedHolds(tx *bolt.Tx) map[string][]Hold {
	var m map[string][]Hold
	_ = forEachHold(tx, func(h *StoredHold) { // fn never fails, so neither does forEachHold
		if m == nil {
			m = make(map[string][]Hold)
		}
		m[h.Camera] = append(m[h.Camera], h.hold())
	})
	return m
}

func newHoldID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validHoldID reports whether id could have been made by newHoldID.
func validHoldID(id string) bool {
	if len(id) != holdIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

const holdValueVersion = 1

// encodeHold encodes everything but the ID (the key). A zero To is stored
// as 0.
//
//	version(1) from(8, ns BE) to(8, ns BE; 0: none) created(8, ns BE)
//	camera(uvarint len + bytes) reason(uvarint len + bytes)
func encodeHold(h *StoredHold) []byte {
	b := make([]byte, 0, 1+24+2+len(h.Camera)+2+len(h.Reason))
	b = append(b, holdValueVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(h.From.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(h.To, 0)))
	b = binary.BigEndian.AppendUint64(b, uint64(h.Created.UnixNano()))
	b = appendString(b, h.Camera)
	return appendString(b, h.Reason)
}

// decodeHold is the inverse of encodeHold with the key k as ID. It never
// panics and refuses what AddHold would not store.
func decodeHold(k, v []byte) (StoredHold, error) {
	r := valueReader{b: v}
	if ver := r.byte(); ver != holdValueVersion && r.err == nil {
		return StoredHold{}, fmt.Errorf("%w: hold value version %d", ErrCorrupt, ver)
	}
	h := StoredHold{ID: string(k), From: nsTime(int64(r.uint64()))}
	if to := int64(r.uint64()); to != 0 {
		h.To = nsTime(to)
	}
	h.Created = nsTime(int64(r.uint64()))
	h.Camera, h.Reason = r.string(), r.string()
	if r.err == nil && (r.pos != len(v) || !validHoldID(h.ID) || h.validate() != nil) {
		r.fail()
	}
	if r.err != nil {
		return StoredHold{}, fmt.Errorf("%w: hold %.40q at byte %d", ErrCorrupt, k, r.pos)
	}
	return h, nil
}
