package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// utime 250 and stime 50 ticks (fields 14 and 15); the command name
	// holds blanks and a ")".
	const stat = "4242 (camvault (x) y) S 1 4242 4242 0 -1 4194560 1200 0 3 0 250 50 0 0 20 0 12 0 100 200000000 3000 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	for _, bad := range []string{"", "4242 camvault S 1", "4242 (camvault) S 1 2 3", "4242 (c) S 1 1 1 0 -1 1 1 0 3 0 x 50 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", bad)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     int64 // -1: error
	}{
		{"status", "Name:\tcamvault\nVmPeak:\t 900 kB\nVmRSS:\t   51200 kB\nThreads:\t9\n", 50 << 20},
		{"no VmRSS", "Name:\tcamvault\nThreads:\t9\n", -1},
		{"empty VmRSS", "VmRSS:\n", -1},
		{"bad number", "VmRSS:\t12x kB\n", -1},
		{"other unit", "VmRSS:\t12 MB\n", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatusRSS(strings.NewReader(tc.in))
			if tc.want < 0 {
				if err == nil {
					t.Fatalf("got %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

// TestProcSelf reads this process's own /proc entries.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Errorf("procCPU: %v", err)
	}
	if rss, err := procRSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("procRSS = %d, %v", rss, err)
	}
	if selfCPU() <= 0 {
		t.Error("selfCPU is 0")
	}
}
