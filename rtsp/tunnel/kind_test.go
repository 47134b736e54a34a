package tunnel_test

import (
	"testing"

	"github.com/camvault/camvault/rtsp/tunnel"
)

func TestKindString(t *testing.T) {
	for k, want := range map[tunnel.Kind]string{tunnel.KindGet: "GET", tunnel.KindPost: "POST", 0: "unknown", 7: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
