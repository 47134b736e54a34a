package rtsp

import (
	"net/url"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// urlKey is what two URLs must share to designate the same resource:
// path and raw query, each without trailing "/" (RTSP-URL-03). Scheme, host, port and userinfo
// are whatever the client used and never compared (RTSP-MSG-10).
type urlKey struct {
	path, query string
}

func keyOf(u *url.URL) urlKey {
	return urlKey{path: strings.TrimRight(u.Path, "/"), query: strings.TrimRight(u.RawQuery, "/")}
}

// matchTrack returns the index of the stream that setupURL designates, for
// a presentation announced at baseURL with the given a=control values
// (RTSP-URL-02, RTSP-URL-05). It accepts base/control (ffmpeg streamid=N,
// GStreamer stream=N, with the query after the path), path?query/control
// (ffmpeg with a query), RFC 3986 resolution and absolute controls. The
// aggregate URL designates the only stream of a single-stream presentation,
// and gets 459 otherwise (RTSP-M-17); anything else gets 404.
func matchTrack(baseURL string, controls []string, setupURL string) (int, error) {
	b, err1 := url.Parse(baseURL)
	u, err2 := url.Parse(setupURL)
	if err1 != nil || err2 != nil {
		return 0, base.NewError(base.StatusBadRequest, "bad setup url", nil)
	}
	want := keyOf(u)
	for i, c := range controls {
		for _, k := range controlKeys(b, c) {
			if k == want {
				return i, nil
			}
		}
	}
	if want == keyOf(b) {
		if len(controls) == 1 {
			return 0, nil
		}
		return 0, base.NewError(base.StatusAggregateOperationNotAllowed, "setup on aggregate url", nil)
	}
	return 0, base.NewError(base.StatusNotFound, "unknown track", nil)
}

// controlKeys returns the keys a client may use for control c under base b.
func controlKeys(b *url.URL, c string) []urlKey {
	if c == "" || c == "*" {
		return []urlKey{keyOf(b)}
	}
	ref, err := url.Parse(c)
	if err != nil {
		return nil
	}
	if ref.IsAbs() {
		return []urlKey{keyOf(ref)}
	}
	bk := keyOf(b)
	joined := bk.path + "/" + strings.TrimLeft(ref.Path, "/")
	keys := []urlKey{{path: strings.TrimRight(joined, "/"), query: bk.query}}
	if ref.RawQuery != "" {
		keys = append(keys, urlKey{path: strings.TrimRight(joined, "/"), query: ref.RawQuery})
	}
	if bk.query != "" {
		keys = append(keys, urlKey{path: bk.path, query: bk.query + "/" + c})
	}
	return append(keys, keyOf(b.ResolveReference(ref)))
}

// isTrackURL reports whether rawURL designates one stream of the
// presentation at baseURL rather than the presentation itself.
func isTrackURL(baseURL string, controls []string, rawURL string) bool {
	b, err1 := url.Parse(baseURL)
	u, err2 := url.Parse(rawURL)
	if err1 != nil || err2 != nil {
		return false
	}
	want, agg := keyOf(u), keyOf(b)
	if want == agg {
		return false
	}
	for _, c := range controls {
		for _, k := range controlKeys(b, c) {
			if k == want {
				return true
			}
		}
	}
	return false
}
