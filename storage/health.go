package storage

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	// rateWindow is how far back WriteRate looks, in rateSlots slots.
	rateWindow = 10 * time.Minute
	rateSlot   = 10 * time.Second
	rateSlots  = int(rateWindow / rateSlot)
)

// rateMeter counts bytes written in rateSlot slots over rateWindow.
type rateMeter struct {
	opened time.Time // set by Open before the writers start; read-only after

	// mu guards bytes and slot.
	mu    sync.Mutex
	bytes [rateSlots]int64
	slot  [rateSlots]int64 // the slot number (Unix time / rateSlot) each entry counts
}

func slotOf(t time.Time) int64 { return t.UnixNano() / int64(rateSlot) }

// add counts n bytes written at now.
func (m *rateMeter) add(now time.Time, n int) {
	sl := slotOf(now)
	i := int(sl % int64(rateSlots))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slot[i] != sl {
		m.slot[i], m.bytes[i] = sl, 0
	}
	m.bytes[i] += int64(n)
}

// rate returns the bytes per second written over the window that ends at
// now: the last rateSlots slots, or since opened when that is later.
func (m *rateMeter) rate(now time.Time) float64 {
	cur := slotOf(now)
	oldest := cur - int64(rateSlots) + 1
	var sum int64
	m.mu.Lock()
	for i := range m.slot {
		if m.slot[i] >= oldest && m.slot[i] <= cur {
			sum += m.bytes[i]
		}
	}
	m.mu.Unlock()
	from := time.Unix(0, oldest*int64(rateSlot))
	if m.opened.After(from) {
		from = m.opened
	}
	span := now.Sub(from).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(sum) / span
}

// WriteRate returns the bytes per second the writers wrote (segment
// headers and fragments, all cameras) over the last 10 minutes, in 10 s
// steps, or since Open when that was less long ago.
func (s *Store) WriteRate() float64 { return s.rate.rate(time.Now()) }

// readyProbe caches Ready's last index write.
type readyProbe struct {
	// mu guards at and err, and serializes probes.
	mu  sync.Mutex
	at  time.Time // when the last probe ran; zero: never
	err error
}

// metaKeyProbe is the meta bucket key that Ready writes: the time of the
// probe as Unix ns in decimal ASCII.
var metaKeyProbe = []byte("ready_probe")

// Ready reports whether the Store can record: nil when it is open and the
// index takes a write. It really writes (a key of the meta bucket, in a
// transaction committed by the sync policy), at most once per
// Config.ReadyProbeInterval; calls in between return the last result. After
// Close it returns ErrClosed. Safe for concurrent use; a probe may wait for
// other index writers.
func (s *Store) Ready() error {
	if s.isClosed() {
		return ErrClosed
	}
	p := &s.ready
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.at.IsZero() && now.Sub(p.at) < s.cfg.ReadyProbeInterval && now.After(p.at) {
		return p.err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(metaKeyProbe, fmt.Appendf(nil, "%d", now.UnixNano()))
	})
	switch {
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		err = ErrClosed
	case err != nil:
		err = fmt.Errorf("storage: index not writable: %w", err)
	}
	p.at, p.err = now, err
	return err
}
