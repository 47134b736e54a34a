package main

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	t.Parallel()
	got := versionString()
	if strings.HasPrefix(got, "camvault") || !strings.HasSuffix(got, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("versionString() = %q", got)
	}
}

func TestVCSInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		settings []debug.BuildSetting
		want     []string
	}{
		{name: "none", want: nil},
		{
			name: "all",
			settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"},
				{Key: "vcs.time", Value: "2026-11-25T10:43:00Z"},
				{Key: "vcs.modified", Value: "true"},
				{Key: "GOARCH", Value: "amd64"},
			},
			want: []string{"rev 1a2b3c4d5e6f", "2026-11-25T10:43:00Z", "modified"},
		},
		{name: "short revision, clean", settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, want: []string{"rev abc"}},
	} {
		if got := vcsInfo(tc.settings); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: vcsInfo = %q, want %q", tc.name, got, tc.want)
		}
	}
}
