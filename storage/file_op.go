package storage

import "fmt"

// FileOp is a file operation of the segment writers, as named in a
// FaultRule.
type FileOp uint8

const (
	// FileMkdir creates a directory under recordings/.
	FileMkdir FileOp = iota + 1
	// FileCreate creates a segment file.
	FileCreate
	// FileWrite writes a segment's header or one fragment.
	FileWrite
	// FileDatasync is the fdatasync after each fragment (SyncFragment).
	FileDatasync
	// FileSync is the fsync of a new segment file and of a segment at seal.
	FileSync
	// FileTruncate cuts a torn fragment off after a failed write or fsync.
	FileTruncate
	// FileSyncDir is the fsync of a directory after a file or directory
	// was created in it.
	FileSyncDir

	numFileOps
)

var fileOpNames = [...]string{FileMkdir: "mkdir", FileCreate: "create", FileWrite: "write",
	FileDatasync: "fdatasync", FileSync: "fsync", FileTruncate: "truncate", FileSyncDir: "fsync dir"}

// String returns the operation's name, as in error messages ("write").
func (o FileOp) String() string {
	if int(o) < len(fileOpNames) && fileOpNames[o] != "" {
		return fileOpNames[o]
	}
	return fmt.Sprintf("FileOp(%d)", uint8(o))
}
