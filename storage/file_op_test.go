package storage_test

import (
	"testing"

	"github.com/camvault/camvault/storage"
)

func TestFileOpString(t *testing.T) {
	for _, tc := range []struct {
		op   storage.FileOp
		want string
	}{
		{storage.FileMkdir, "mkdir"}, {storage.FileCreate, "create"}, {storage.FileWrite, "write"},
		{storage.FileDatasync, "fdatasync"}, {storage.FileSync, "fsync"}, {storage.FileTruncate, "truncate"},
		{storage.FileSyncDir, "fsync dir"}, {0, "FileOp(0)"}, {200, "FileOp(200)"},
	} {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("FileOp(%d).String() = %q, want %q", uint8(tc.op), got, tc.want)
		}
	}
}
