package storage

import "testing"

func TestDirFreeSpace(t *testing.T) {
	free, total, err := dirFreeSpace(t.TempDir())()
	if err != nil || free <= 0 || total < free {
		t.Errorf("free %d total %d: %v", free, total, err)
	}
	if _, _, err := dirFreeSpace(t.TempDir() + "/missing")(); err == nil {
		t.Error("statfs of a missing directory succeeded")
	}
}
