package storage

import (
	"errors"
	"os"
	"syscall"
)

// allocate gives f size bytes of real blocks: fallocate(2), or written
// zeros on a file system without it.
func allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		return writeZeros(f, size)
	}
	return err
}
