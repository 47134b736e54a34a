package headers

import (
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// ParseOptionTags splits a Require, Proxy-Require, Unsupported or
// Supported value into its option tags [2326 §12.32]. Empty items are
// dropped.
func ParseOptionTags(v string) []string {
	var tags []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// UnsupportedOptions returns the option tags of Require and Proxy-Require
// (servers treat both alike, RTSP-OPT-01) for which supports is false; a
// nil supports supports nothing.
func UnsupportedOptions(h base.Header, supports func(string) bool) []string {
	var out []string
	for _, t := range RequiredOptions(h) {
		if supports == nil || !supports(t) {
			out = append(out, t)
		}
	}
	return out
}

// RequiredOptions returns the option tags of Require and Proxy-Require.
func RequiredOptions(h base.Header) []string {
	var out []string
	for _, name := range [...]string{"Require", "Proxy-Require"} {
		for _, v := range h.Values(name) {
			out = append(out, ParseOptionTags(v)...)
		}
	}
	return out
}
