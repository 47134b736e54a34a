package storage

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// fileCache keeps segment files open read-only for playback, so that a
// player reading one fragment a second costs one pread, not
// open+pread+close. It holds at most max files; one unused for idle is
// closed by a timer. Files are opened only through the Store's os.Root and
// only under recordings/. Safe for concurrent use.
type fileCache struct {
	root *os.Root
	max  int
	idle time.Duration

	mu     sync.Mutex
	closed bool
	files  map[string]*cachedFile
	timer  *time.Timer // sweeps idle files; armed while files is not empty
}

// cachedFile is one open file. Readers hold a reference while they read; a
// file dropped from the cache (evicted, forgotten) is closed by the last one.
type cachedFile struct {
	f       *os.File
	name    string
	refs    int
	lastUse time.Time
	dropped bool
}

func newFileCache(root *os.Root, maxFiles int, idle time.Duration) *fileCache {
	return &fileCache{root: root, max: maxFiles, idle: idle, files: make(map[string]*cachedFile)}
}

// acquire returns the open file for name with a reference held; release it
// with release. A hit does not allocate.
func (c *fileCache) acquire(name string) (*cachedFile, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if cf := c.files[name]; cf != nil {
		cf.refs++
		cf.lastUse = time.Now()
		c.mu.Unlock()
		return cf, nil
	}
	c.mu.Unlock()
	// Open outside the lock: a slow disk must not stall readers of other
	// files.
	if _, _, err := parseSegmentPath(name); err != nil {
		return nil, err
	}
	f, err := c.root.Open(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		f.Close()
		return nil, ErrClosed
	}
	if cf := c.files[name]; cf != nil { // another reader was faster
		f.Close()
		cf.refs++
		cf.lastUse = time.Now()
		return cf, nil
	}
	if len(c.files) >= c.max {
		c.evictOldestLocked()
	}
	cf := &cachedFile{f: f, name: name, refs: 1, lastUse: time.Now()}
	c.files[name] = cf
	if c.timer == nil {
		c.timer = time.AfterFunc(c.idle, c.sweep)
	} else if len(c.files) == 1 {
		c.timer.Reset(c.idle)
	}
	return cf, nil
}

func (c *fileCache) release(cf *cachedFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cf.refs--
	if cf.refs == 0 && cf.dropped {
		cf.f.Close()
	}
}

// dropLocked removes cf from the cache; it is closed now or by its last
// reader.
func (c *fileCache) dropLocked(cf *cachedFile) {
	delete(c.files, cf.name)
	cf.dropped = true
	if cf.refs == 0 {
		cf.f.Close()
	}
}

// evictOldestLocked drops the least recently used file, preferring one no
// reader holds. The linear scan runs only on a miss of a full cache.
func (c *fileCache) evictOldestLocked() {
	var victim *cachedFile
	for _, cf := range c.files {
		switch {
		case victim == nil:
			victim = cf
		case (cf.refs == 0) != (victim.refs == 0):
			if cf.refs == 0 {
				victim = cf
			}
		case cf.lastUse.Before(victim.lastUse):
			victim = cf
		}
	}
	if victim != nil {
		c.dropLocked(victim)
	}
}

// sweep closes files unused for idle and re-arms the timer while any remain.
func (c *fileCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := time.Now()
	next := c.idle
	for _, cf := range c.files {
		switch left := c.idle - now.Sub(cf.lastUse); {
		case cf.refs == 0 && left <= 0:
			c.dropLocked(cf)
		case left > 0 && left < next:
			next = left
		}
	}
	if len(c.files) > 0 {
		c.timer.Reset(next)
	}
}

// forget drops name from the cache, for a file about to be removed or
// rewritten. A nil cache (Reindex's Store) has nothing to forget.
func (c *fileCache) forget(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cf := c.files[name]; cf != nil {
		c.dropLocked(cf)
	}
}

// close closes every file (files being read are closed by their readers)
// and refuses further use.
func (c *fileCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	for _, cf := range c.files {
		c.dropLocked(cf)
	}
}

// readAt reads len(p) bytes at off of the cached file name.
func (c *fileCache) readAt(name string, p []byte, off int64) error {
	cf, err := c.acquire(name)
	if err != nil {
		return err
	}
	defer c.release(cf)
	n, err := cf.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	return fmt.Errorf("read %d bytes at %d: got %d: %w", len(p), off, n, err)
}
