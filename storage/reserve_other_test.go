//go:build !linux

package storage

import "os"

// fileBlocks returns the file's size where block counts are not known.
func fileBlocks(st os.FileInfo) int64 { return st.Size() }
