package storage

import (
	"fmt"
	"syscall"
)

// dirFreeSpace returns a FreeSpace function that asks statfs(2) about the
// file system holding dir: blocks available to unprivileged users, and all
// blocks, times the block size.
func dirFreeSpace(dir string) func() (free, total int64, err error) {
	return func() (int64, int64, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return 0, 0, fmt.Errorf("storage: statfs: %w", err)
		}
		bsize := int64(st.Bsize)
		return int64(st.Bavail) * bsize, int64(st.Blocks) * bsize, nil
	}
}
