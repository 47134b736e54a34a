package rtsp

import "strings"

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

// unsupportedOptions returns the option tags of Require and Proxy-Require
// (servers treat both alike, RTSP-OPT-01) for which supports is false; a
// nil supports supports nothing.
func unsupportedOptions(h Header, supports func(string) bool) []string {
	var out []string
	for _, t := range requiredOptions(h) {
		if supports == nil || !supports(t) {
			out = append(out, t)
		}
	}
	return out
}

// requiredOptions returns the option tags of Require and Proxy-Require.
func requiredOptions(h Header) []string {
	var out []string
	for _, name := range [...]string{"Require", "Proxy-Require"} {
		for _, v := range h.Values(name) {
			out = append(out, ParseOptionTags(v)...)
		}
	}
	return out
}
