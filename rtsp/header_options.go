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
// (servers treat both alike, RTSP-OPT-01) that are not in supported.
func unsupportedOptions(h Header, supported map[string]bool) []string {
	var out []string
	for _, name := range [...]string{"Require", "Proxy-Require"} {
		for _, v := range h.Values(name) {
			for _, t := range ParseOptionTags(v) {
				if !supported[strings.ToLower(t)] {
					out = append(out, t)
				}
			}
		}
	}
	return out
}
