package storage

import (
	"errors"
	"syscall"
)

// isNoSpace reports an error that says the filesystem or the quota is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
