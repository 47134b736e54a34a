package storage_test

import (
	"fmt"
	"testing"

	"github.com/camvault/camvault/storage"
)

// TestEnumStrings covers the String methods of storage's enums: the names
// appear in config, errors and metric labels.
func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		v    fmt.Stringer
		want string
	}{
		{storage.SyncFragment, "fragment"}, {storage.SyncSegment, "segment"}, {storage.SyncNone, "none"},
		{storage.SyncPolicy(9), "SyncPolicy(9)"},
		{storage.FileMkdir, "mkdir"}, {storage.FileCreate, "create"}, {storage.FileWrite, "write"},
		{storage.FileDatasync, "fdatasync"}, {storage.FileSync, "fsync"}, {storage.FileTruncate, "truncate"},
		{storage.FileSyncDir, "fsync dir"}, {storage.FileOp(0), "FileOp(0)"}, {storage.FileOp(200), "FileOp(200)"},
		{storage.DeleteReason(storage.NumDeleteReasons), "DeleteReason(6)"}, {storage.ReasonUploadedMaxAge, "uploaded_max_age"},
		{storage.UploadNone, "none"}, {storage.UploadDone, "done"}, {storage.UploadRefused, "refused"}, {storage.UploadState(7), "UploadState(7)"},
		{storage.SummaryHour, "hour"}, {storage.SummaryDay, "day"}, {storage.SummaryUnit(0), "SummaryUnit(0)"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%T %q: String() = %q", tc.v, tc.want, got)
		}
	}
}
