package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// versionString describes the running binary for "camvault version" and the start-up log:
// module version, VCS revision, commit time and a "modified" mark when the build recorded
// them, then the Go version and platform. It does not name the program. For example:
//
//	v0.3.0 (rev 1a2b3c4d5e6f, 2026-11-25T10:43:00Z) go1.26.8 linux/amd64
func versionString() string {
	version, extra := "(devel)", []string(nil)
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		extra = vcsInfo(bi.Settings)
	}
	var b strings.Builder
	b.WriteString(version)
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	}
	b.WriteString(" " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}

// vcsInfo returns the short revision, commit time and "modified" from the build settings that
// are present.
func vcsInfo(settings []debug.BuildSetting) []string {
	var rev, when string
	modified := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var out []string
	if rev != "" {
		out = append(out, "rev "+rev[:min(12, len(rev))])
	}
	if when != "" {
		out = append(out, when)
	}
	if modified {
		out = append(out, "modified")
	}
	return out
}
