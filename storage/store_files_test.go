package storage

import (
	"os"
	"path"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// cacheDir makes a data directory with n one-byte segment files and returns
// its root and their paths.
func cacheDir(t *testing.T, n int) (*os.Root, []string) {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for i := range n {
		rel := segmentPath("cam", time.Date(2026, 11, 25, 10, i, 0, 0, time.UTC))
		if err := os.MkdirAll(filepath.Join(dir, path.Dir(rel)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), []byte{byte(i)}, 0o640); err != nil {
			t.Fatal(err)
		}
		names = append(names, rel)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, names
}

func (c *fileCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.files)
}

func (c *fileCache) get(name string) *cachedFile {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.files[name]
}

func TestFileCacheEviction(t *testing.T) {
	root, names := cacheDir(t, 3)
	c := newFileCache(root, 2, time.Hour)
	defer c.close()
	held, err := c.acquire(names[0])
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	for i, name := range names[1:] {
		if err := c.readAt(name, b[:], 0); err != nil || b[0] != byte(i+1) {
			t.Fatalf("%s: %v %d", name, err, b[0])
		}
	}
	// The cache stays at 2 files and evicts the idle one, not the held one.
	if c.size() != 2 || c.get(names[0]) != held || c.get(names[1]) != nil {
		t.Fatalf("cache holds %d files", c.size())
	}
	// A held file forgotten (or evicted) stays readable until released.
	c.forget(names[0])
	if _, err := held.f.ReadAt(b[:], 0); err != nil || b[0] != 0 {
		t.Fatalf("held file: %v", err)
	}
	c.release(held)
	if _, err := held.f.ReadAt(b[:], 0); err == nil {
		t.Fatal("released dropped file still open")
	}
	c.close()
	if err := c.readAt(names[1], b[:], 0); err != ErrClosed {
		t.Fatalf("after close: %v", err)
	}
}

func TestFileCacheIdleClose(t *testing.T) {
	root, names := cacheDir(t, 2)
	synctest.Test(t, func(t *testing.T) {
		c := newFileCache(root, 4, time.Minute)
		defer c.close()
		var b [1]byte
		if err := c.readAt(names[0], b[:], 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(40 * time.Second)
		if err := c.readAt(names[1], b[:], 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Second) // names[0] idle 70 s, names[1] 30 s
		synctest.Wait()
		if c.size() != 1 || c.get(names[1]) == nil {
			t.Fatalf("after 70 s: %d files", c.size())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if c.size() != 0 {
			t.Fatalf("after 130 s: %d files", c.size())
		}
		// The timer re-arms for files opened after the cache emptied.
		if err := c.readAt(names[0], b[:], 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if c.size() != 0 {
			t.Fatalf("re-armed: %d files", c.size())
		}
	})
}
