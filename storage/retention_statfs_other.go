//go:build !linux

package storage

import "errors"

// errNoStatfs is returned by the default FreeSpace where camvault has no
// statfs; a free-space floor then needs an injected Config.FreeSpace.
var errNoStatfs = errors.New("storage: free space unknown on this platform; set Config.FreeSpace")

func dirFreeSpace(string) func() (free, total int64, err error) {
	return func() (int64, int64, error) { return 0, 0, errNoStatfs }
}
