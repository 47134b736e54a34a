package recorder

import (
	"testing"
	"time"
)

func TestRateWindowBitrate(t *testing.T) {
	s := int64(time.Second)
	// steady adds n samples, one a second from 0, of 1000 bytes each.
	steady := func(n int) *rateWindow {
		w := &rateWindow{}
		for k := range n {
			w.add(int64(k)*s, uint64(k)*1000)
		}
		return w
	}
	for _, tc := range []struct {
		name string
		w    *rateWindow
		now  int64
		want float64
	}{
		{"empty", &rateWindow{}, 5 * s, 0},
		{"opened, no fragment yet", steady(1), 2 * s, 0},
		{"younger than the span: from the oldest", steady(3), 2 * s, 8000},
		{"older than the span: the last 10 s", steady(15), 14 * s, 8000},
		{"between fragments", steady(15), 14*s + s/2, 10000 * 8 / 10.5},
		{"stopped 16 s ago", steady(15), 30 * s, 0},
		{"ring wrapped", steady(40), 39 * s, 8000},
		{"clock stepped back", steady(3), -s, 0},
	} {
		if got := tc.w.bitrate(tc.now); got != tc.want {
			t.Errorf("%s: %v bits/s, want %v", tc.name, got, tc.want)
		}
	}
}
