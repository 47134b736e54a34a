package storage

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIndexReserve checks that Open sets the reserve aside with real
// blocks, that releasing it removes it once, and that it comes back.
func TestIndexReserve(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, IndexReserve: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := filepath.Join(dir, reserveFile)
	st, err := os.Stat(path)
	if err != nil || st.Size() != 1<<20 {
		t.Fatalf("reserve: %v %v", st, err)
	}
	if allocated := fileBlocks(st); allocated < 1<<20 {
		t.Errorf("reserve holds %d bytes of blocks, want %d (not sparse)", allocated, 1<<20)
	}
	if !s.releaseReserve() {
		t.Fatal("release: false")
	}
	if s.releaseReserve() {
		t.Error("second release: true")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("reserve still there: %v", err)
	}
	s.ensureReserve()
	if st, err := os.Stat(path); err != nil || st.Size() != 1<<20 {
		t.Errorf("reserve not restored: %v %v", st, err)
	}
}
