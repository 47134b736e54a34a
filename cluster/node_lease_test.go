package cluster

import (
	"testing"
	"time"
)

// TestKeepAliveInterval checks the cadence rule of keepAliveInterval (issue 13, doubt
// flicker): after a keepalive sent at s is answered, the next two each get a whole interval
// to be answered before the local deadline s + ttl - margin, so a single keepalive lost or
// late never puts the lease in doubt. With lease_ttl/3 the second one had 167 ms of a 2 s
// lease with a 500 ms margin.
func TestKeepAliveInterval(t *testing.T) {
	for _, tc := range []struct{ ttl, margin time.Duration }{
		{2 * time.Second, 500 * time.Millisecond}, // the interop tests
		{DefaultLeaseTTL, DefaultFenceMargin},
		{2 * time.Second, time.Second}, // the largest margin Validate takes
		{10 * time.Minute, 0},
	} {
		n := &Node{cfg: Config{LeaseTTL: tc.ttl, FenceMargin: tc.margin}}
		iv := n.keepAliveInterval()
		s := time.Unix(1000, 0)
		deadline := n.leaseDeadline(s, int64(tc.ttl/time.Second))
		for k := 1; k <= 2; k++ {
			sent := s.Add(time.Duration(k) * iv)
			if left := deadline.Sub(sent); left < iv {
				t.Errorf("ttl %v margin %v: keepalive %d after an answer has %v before the deadline, less than the %v it may wait",
					tc.ttl, tc.margin, k, left, iv)
			}
		}
		if iv <= 0 {
			t.Errorf("ttl %v margin %v: interval %v", tc.ttl, tc.margin, iv)
		}
	}
}
