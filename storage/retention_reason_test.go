package storage_test

import (
	"testing"

	"github.com/camvault/camvault/storage"
)

func TestDeleteReasonString(t *testing.T) {
	tests := []struct {
		name string
		r    storage.DeleteReason
		want string
	}{
		{"max age", storage.ReasonMaxAge, "max_age"},
		{"max bytes", storage.ReasonMaxBytes, "max_bytes"},
		{"min free", storage.ReasonMinFree, "min_free"},
		{"reclaim", storage.ReasonReclaim, "reclaim"},
		{"zero", 0, "DeleteReason(0)"},
		{"unknown", 200, "DeleteReason(200)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
