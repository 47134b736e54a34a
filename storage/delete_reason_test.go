package storage_test

import (
	"testing"

	"github.com/camvault/camvault/storage"
)

func TestDeleteReasonString(t *testing.T) {
	for _, tc := range []struct {
		r    storage.DeleteReason
		want string
	}{
		{storage.DeleteMaxAge, "max_age"}, {storage.DeleteMaxBytes, "max_bytes"},
		{storage.DeleteMinFree, "min_free"}, {storage.DeleteReclaim, "reclaim"},
		{storage.NumDeleteReasons, "DeleteReason(4)"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("DeleteReason(%d).String() = %q, want %q", uint8(tc.r), got, tc.want)
		}
	}
}
