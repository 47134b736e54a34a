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

// validate checks what a stored hold may be, whatever the configuration:
// decodeHold refuses the same.
func (h *StoredHold) validate() error {
	if err := ValidCamera(h.Camera); err != nil {
		return err
	}
	switch {
	case h.From.IsZero():
		return fmt.Errorf("%w: it needs a start", ErrInvalidHold)
	case !storableTime(h.From) || !h.To.IsZero() && !storableTime(h.To):
		return fmt.Errorf("%w: its times must lie between %v and %v", ErrInvalidHold, minUnixNano.UTC(), maxUnixNano.UTC())
	case !h.To.IsZero() && !h.To.After(h.From):
		return fmt.Errorf("%w: its end %v is not after its start %v", ErrInvalidHold, h.To, h.From)
	case len(h.Reason) > MaxHoldReason:
		return fmt.Errorf("%w: reason of %d bytes is longer than %d", ErrInvalidHold, len(h.Reason), MaxHoldReason)
	}
	return nil
}

// storableTime reports whether t is an instant that int64 Unix nanoseconds
// hold (1677-09-21 to 2262-04-11), as the index stores it.
func storableTime(t time.Time) bool { return !t.Before(minUnixNano) && !t.After(maxUnixNano) }

// admit checks what AddHold accepts beyond validate: an end, and a span of
// at most Config.MaxHoldDuration. Holds already stored are not checked
// again when the limit changes.
func (h *StoredHold) admit(maxDur time.Duration) error {
	if err := h.validate(); err != nil {
		return err
	}
	switch {
	case h.To.IsZero():
		return fmt.Errorf("%w: it needs an end (at most %v after its start)", ErrInvalidHold, maxDur)
	case h.To.Sub(h.From) > maxDur:
		return fmt.Errorf("%w: it spans %v, more than max_hold_duration %v", ErrInvalidHold, h.To.Sub(h.From), maxDur)
	}
	return nil
}

// AddHold stores a hold on h.Camera's recordings of [h.From, h.To) and
// returns it with a new random ID and Created set; ID and Created given
// are ignored, times are kept in UTC at nanosecond precision. From and To
// are required, inside the range the index stores (1677 to 2262), and at
// most Config.MaxHoldDuration apart: a hold keeps its recordings from
// every deletion, the free-space floor included, so an unbounded one
// could fill the disk. A camera name that fails ValidCamera gives
// ErrInvalidCamera, other refusals ErrInvalidHold, and ErrTooManyHolds
// when Config.MaxHolds are stored, or Config.MaxHoldsPerCamera of the
// camera. A retention pass under way honours the hold from its next batch
// on. The hold is committed to the index before AddHold returns, and then
// to recordings/.camvault-holds (see updateHolds).
func (s *Store) AddHold(h StoredHold) (StoredHold, error) {
	if err := h.admit(s.cfg.MaxHoldDuration); err != nil {
		return StoredHold{}, err
	}
	h.ID, h.From, h.To, h.Created = "", h.From.UTC(), h.To.UTC(), time.Now().UTC()
	err := s.updateHolds(func(b *bolt.Bucket) error {
		if n := b.Stats().KeyN; n >= s.cfg.MaxHolds {
			return fmt.Errorf("%w: %d stored, the limit is %d", ErrTooManyHolds, n, s.cfg.MaxHolds)
		}
		if n := cameraHolds(b, h.Camera); n >= s.cfg.MaxHoldsPerCamera {
			return fmt.Errorf("%w: %d stored for camera %s, the limit is %d", ErrTooManyHolds, n, h.Camera, s.cfg.MaxHoldsPerCamera)
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

// cameraHolds counts the holds of camera in b.
func cameraHolds(b *bolt.Bucket, camera string) int {
	n := 0
	_ = b.ForEach(func(k, v []byte) error { // fn never fails, so neither does ForEach
		if h, err := decodeHold(k, v); err == nil && h.Camera == camera {
			n++
		}
		return nil
	})
	return n
}

// updateHolds runs fn on the holds bucket in a write transaction, then,
// with the transaction committed, rewrites the holds file from what it
// committed: the index's writers do not wait for the file's fsyncs.
// holdsMu orders the changes, so the file always ends as the last commit
// left the bucket. The index is the truth and the file its copy: after a
// crash or a failed write between commit and file, the change stands and
// the next change or Open rewrites the file (settleHolds); a failed write
// is logged at Error, since until then a rebuild of the index from the
// files would miss that change.
func (s *Store) updateHolds(fn func(*bolt.Bucket) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.holdsMu.Lock()
	defer s.holdsMu.Unlock()
	var file []byte
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketHolds)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		file = encodeHoldsFile(b)
		return nil
	})
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	if err != nil {
		return err
	}
	if err := writeHoldsFile(s.root, file); err != nil {
		s.log.Error("holds file not updated; the index has the change, the next change or start-up rewrites the file",
			"err", err)
	}
	return nil
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
