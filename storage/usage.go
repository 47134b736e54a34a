package storage

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Usage is one camera's share of the store, from the index.
type Usage struct {
	// Camera is the camera's name.
	Camera string
	// Bytes is the size of the camera's segments, open ones as written so
	// far.
	Bytes int64
	// Segments counts the camera's index entries that decode.
	Segments int
	// Oldest is the start of the first segment and Newest the end of the
	// last one (UTC); both zero without segments.
	Oldest, Newest time.Time
}

// usageCache is Usage's last answer, reused for Config.UsageMaxAge.
type usageCache struct {
	// fill is held by the caller that reads the index, so that concurrent
	// callers read it once. invalidate never waits for it.
	fill sync.Mutex
	// mu guards at, usage and gen.
	mu    sync.Mutex
	at    time.Time // when usage was read (monotonic); zero: none
	usage []Usage
	gen   uint64 // counts invalidations
}

// get returns the answer if it is younger than maxAge, else the current
// generation for put.
func (uc *usageCache) get(maxAge time.Duration) ([]Usage, uint64, bool) {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.at.IsZero() || time.Since(uc.at) >= maxAge {
		return nil, uc.gen, false
	}
	return slices.Clone(uc.usage), uc.gen, true
}

// put keeps u, read at time at, unless an invalidation came since gen: u
// may then predate deletions.
func (uc *usageCache) put(u []Usage, at time.Time, gen uint64) {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if gen == uc.gen {
		uc.at, uc.usage = at, u
	}
}

// invalidate drops the answer, after deletions.
func (uc *usageCache) invalidate() {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	uc.at, uc.usage = time.Time{}, nil
	uc.gen++
}

// Usage returns the share of every camera in the index, by name. It reads
// the heads of all index entries (no seek table, no file) in one read
// transaction, and reuses that answer for Config.UsageMaxAge: what was
// recorded since is counted from the next read on, what retention deleted
// at once. The result is the caller's.
func (s *Store) Usage() ([]Usage, error) {
	uc := &s.usage
	uc.fill.Lock()
	defer uc.fill.Unlock()
	if s.isClosed() {
		return nil, ErrClosed
	}
	u, gen, ok := uc.get(s.cfg.UsageMaxAge)
	if ok {
		return u, nil
	}
	at := time.Now()
	u, err := s.readUsage()
	if err != nil {
		return nil, err
	}
	uc.put(u, at, gen)
	return slices.Clone(u), nil
}

// readUsage is Usage from the index.
func (s *Store) readUsage() ([]Usage, error) {
	live := s.liveSegments("", nil)
	var out []Usage
	err := s.view(func(tx *bolt.Tx) error {
		cams := tx.Bucket(bucketCameras)
		return cams.ForEachBucket(func(name []byte) error {
			u := Usage{Camera: string(name)}
			if segs := cameraSegments(cams, name); segs != nil {
				cameraUsage(&u, segs, live)
			}
			out = append(out, u)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cameraUsage sums one camera's segments into u.
func cameraUsage(u *Usage, segs *bolt.Bucket, live liveSet) {
	oldest, newest := int64(math.MaxInt64), int64(math.MinInt64)
	c := segs.Cursor()
	for _, v := c.First(); v != nil; _, v = c.Next() {
		h, ok := decodeSegHead(v)
		if !ok {
			continue
		}
		h = live.apply(u.Camera, h)
		u.Bytes += h.bytes
		u.Segments++
		oldest, newest = min(oldest, h.start), max(newest, h.end)
	}
	if u.Segments > 0 {
		u.Oldest, u.Newest = nsTime(oldest), nsTime(newest)
	}
}

// IndexSize returns the size of index.db on disk in bytes (bbolt grows the
// file ahead of its data). After Close it returns ErrClosed.
func (s *Store) IndexSize() (int64, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	st, err := s.root.Stat(indexFile)
	if err != nil {
		return 0, fmt.Errorf("storage: index size: %w", err)
	}
	return st.Size(), nil
}

// DiskSpace returns the free bytes (available to unprivileged users) and
// the total bytes of the file system that holds the data directory, from
// Config.FreeSpace.
func (s *Store) DiskSpace() (free, total int64, err error) {
	return s.cfg.FreeSpace()
}
