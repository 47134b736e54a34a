package weed_test

import (
	"slices"
	"testing"

	"github.com/camvault/camvault/internal/weed"
)

func TestArgs(t *testing.T) {
	ports := weed.Ports{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	for _, tc := range []struct {
		name string
		cfg  weed.Config
		want []string
	}{
		{"defaults", weed.Config{Dir: "/d", Ports: ports},
			[]string{"-dir=/d", "-s3.port=16", "-admin.port.grpc=19", "-master.volumeSizeLimitMB=64", "-volume.max=32"}},
		{"large", weed.Config{Dir: "/d", Ports: ports, VolumeSizeMB: 1024, MaxVolumes: 100},
			[]string{"-master.port=10", "-master.volumeSizeLimitMB=1024", "-volume.max=100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.cfg.Args()
			if args[1] != "mini" {
				t.Errorf("args %q: want the mini command", args)
			}
			for _, w := range tc.want {
				if !slices.Contains(args, w) {
					t.Errorf("args %q lack %q", args, w)
				}
			}
		})
	}
	if p := ports.S3(); p != 16 {
		t.Errorf("S3 port %d, want 16", p)
	}
}

func TestFindPrefersTheEnvironment(t *testing.T) {
	t.Setenv("CAMVAULT_WEED", "/opt/weed")
	if p, err := weed.Find(); err != nil || p != "/opt/weed" {
		t.Errorf("Find() = %q, %v; want CAMVAULT_WEED's", p, err)
	}
}
