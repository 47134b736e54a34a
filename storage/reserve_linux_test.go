package storage

import (
	"os"
	"syscall"
)

// fileBlocks returns the bytes of disk blocks a file holds.
func fileBlocks(st os.FileInfo) int64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return sys.Blocks * 512
	}
	return 0
}
