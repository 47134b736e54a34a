package auth

import "strings"

// DigestURIMatches reports whether the uri parameter of a Digest header
// names the resource of requestURL (RTSP-AUTH-06): the same string, or
// after dropping scheme and host (clients reach a server under several
// names), the same path and query, or a parent of it on a '/' or '?'
// boundary (live555 sends its base URL with SETUP of track URLs). The
// root "/" names only itself.
func DigestURIMatches(uri, requestURL string) bool {
	if uri == requestURL {
		return true
	}
	u, ok1 := uriResource(uri)
	r, ok2 := uriResource(requestURL)
	if !ok1 || !ok2 {
		return false
	}
	if u = strings.TrimSuffix(u, "/"); u == "" {
		return r == "/"
	}
	if r == u || r == u+"/" {
		return true
	}
	return len(r) > len(u) && strings.HasPrefix(r, u) && (r[len(u)] == '/' || r[len(u)] == '?')
}

// uriResource returns the path and query of an absolute rtsp or rtsps URL
// or of an absolute path.
func uriResource(s string) (string, bool) {
	if strings.HasPrefix(s, "/") {
		return s, true
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !(strings.EqualFold(scheme, "rtsp") || strings.EqualFold(scheme, "rtsps")) {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		if rest[i] == '?' {
			return "/" + rest[i:], true
		}
		return rest[i:], true
	}
	return "/", true
}
