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
// a presentation announced or described at baseURL with the given a=control
// values (RTSP-URL-02, RTSP-URL-05). It accepts base/control (ffmpeg
// streamid=N, GStreamer stream=N, with the query after the path),
// path?query/control (ffmpeg, live555 and gortsplib append the control to a
// Content-Base with a query), the RFC 3986 resolution against the
// Content-Base (contentBase: the base path ending in "/"; GStreamer) and
// absolute controls. The aggregate URL designates the only stream of a
// single-stream presentation, and gets 459 otherwise (RTSP-M-17). A URL
// whose path is neither the presentation's nor under it gets 404 Not In
// Presentation, an unknown track under it a plain 404.
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
	agg := keyOf(b)
	if want == agg {
		if len(controls) == 1 {
			return 0, nil
		}
		return 0, base.NewError(base.StatusAggregateOperationNotAllowed, "setup on aggregate url", nil)
	}
	if want.path != agg.path && !strings.HasPrefix(want.path, agg.path+"/") {
		return 0, &base.Error{Status: base.StatusNotFound, Reason: "setup url outside the presentation", Phrase: "Not In Presentation"}
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
	dir := *b // the Content-Base: RFC 3986 resolves against it, not against the request URL
	dir.Path, dir.RawPath = bk.path+"/", ""
	return append(keys, keyOf(dir.ResolveReference(ref)))
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
