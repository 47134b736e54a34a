package tunnel

import (
	"errors"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// ContentType is the media type of both directions of a tunnel: the GET's
// Accept and answer, the POST's Content-Type.
const ContentType = "application/x-rtsp-tunnelled"

// CookieHeader is the header that pairs a GET with its POST.
const CookieHeader = "X-Sessioncookie"

// MaxCookieLen is the longest session cookie accepted, in bytes. Clients
// send 16 to 32 characters: ffmpeg 16 hex digits, GStreamer 23 letters,
// QuickTime 22 base64 characters.
const MaxCookieLen = 128

// Errors of Classify, each wrapped in a *base.Error with the status to
// answer.
var (
	// ErrNotTunnel: an HTTP request that is neither a tunnel GET nor POST:
	// no x-sessioncookie (400, RTSP-HT-02) or another method (405).
	ErrNotTunnel = errors.New("not an rtsp tunnel request")
	// ErrBadCookie: a cookie that is empty, longer than MaxCookieLen,
	// repeated, or has a character outside [A-Za-z0-9+/=._~-] (400).
	ErrBadCookie = errors.New("bad x-sessioncookie")
)

// Request is a tunnel GET or POST.
type Request struct {
	// Kind is the direction the request opens.
	Kind Kind
	// Cookie pairs the GET with its POST. It is a secret of the client:
	// never log it.
	Cookie string
}

// Classify returns the tunnel request that h is (RTSP-HT-01..03): a GET or
// POST with one valid x-sessioncookie. The GET's Accept and the POST's
// Content-Type are not required (live555 checks neither); a POST's
// Content-Length is a dummy and is ignored. Errors wrap ErrNotTunnel or
// ErrBadCookie in a *base.Error with the status to answer.
func Classify(h *base.HTTPRequest) (Request, error) {
	var k Kind
	switch h.Method {
	case "GET":
		k = KindGet
	case "POST":
		k = KindPost
	default:
		return Request{}, base.NewError(base.StatusMethodNotAllowed, "http method "+h.Method, ErrNotTunnel)
	}
	cookies := h.Header.Values(CookieHeader)
	switch {
	case len(cookies) == 0:
		return Request{}, base.NewError(base.StatusBadRequest, "no x-sessioncookie", ErrNotTunnel)
	case len(cookies) > 1 || !ValidCookie(cookies[0]):
		return Request{}, base.NewError(base.StatusBadRequest, "bad x-sessioncookie", ErrBadCookie)
	}
	return Request{Kind: k, Cookie: cookies[0]}, nil
}

// ValidCookie reports whether s may be a session cookie: 1 to MaxCookieLen
// characters of [A-Za-z0-9+/=._~-].
func ValidCookie(s string) bool {
	if s == "" || len(s) > MaxCookieLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("+/=._~-", rune(c)) {
			return false
		}
	}
	return true
}
