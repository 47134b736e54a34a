package rtsp

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
)

// parseDescription keeps the SDP and resolves every control URL against
// Content-Base, else Content-Location, else the request URL (RTSP-URL,
// CLI-21).
func (c *Client) parseDescription(reqURL string, resp *base.Response) error {
	c.sdp = resp.Body
	baseURL := reqURL
	for _, h := range []string{"Content-Base", "Content-Location"} {
		if v := strings.TrimSpace(resp.Header.Get(h)); v != "" {
			baseURL = resolveControl(reqURL, v)
			break
		}
	}
	session, media := scanSDP(resp.Body)
	if len(media) == 0 {
		return errors.New("describe: sdp has no media")
	}
	if len(media) > maxClientStreams {
		return fmt.Errorf("describe: more than %d media", maxClientStreams)
	}
	c.control = resolveControl(baseURL, session)
	c.streams = c.streams[:0]
	for _, m := range media {
		u := resolveControl(baseURL, m.control)
		c.streams = append(c.streams, &clientStream{url: u, altURL: controlFallback(baseURL, m.control, u), clockRate: m.clockRate})
	}
	return nil
}

// sdpMedia is what the client needs of an m= section.
type sdpMedia struct {
	control   string
	clockRate uint32
}

// scanSDP returns the session-level control and the media of an SDP. It
// reads lines only, tolerating what strict parsers refuse (SDP-08).
func scanSDP(b []byte) (session string, media []sdpMedia) {
	for line := range bytes.Lines(b) {
		s := strings.TrimRight(string(line), "\r\n \t")
		switch {
		case strings.HasPrefix(s, "m="):
			rate := uint32(8000)
			if strings.HasPrefix(s, "m=video") {
				rate = 90000
			}
			media = append(media, sdpMedia{clockRate: rate})
		case strings.HasPrefix(s, "a=control:"):
			v := strings.TrimSpace(s[len("a=control:"):])
			if len(media) == 0 {
				session = v
			} else {
				media[len(media)-1].control = v
			}
		case strings.HasPrefix(s, "a=rtpmap:") && len(media) > 0:
			_, enc, _ := strings.Cut(s, " ")
			parts := strings.Split(enc, "/")
			if len(parts) >= 2 {
				if r, err := strconv.ParseUint(parts[1], 10, 32); err == nil && r > 0 {
					media[len(media)-1].clockRate = uint32(r)
				}
			}
		}
	}
	return session, media
}

// resolveControl resolves a control attribute against base: "" and "*"
// mean base itself, an absolute URL is used verbatim, a path starting with
// "/" replaces the path, and anything else is appended after a slash, as
// ffmpeg and live555 do (RTSP-URL-01/02): with a query in base this gives
// path?q/c, which the camvault server and the common cameras accept.
func resolveControl(baseURL, control string) string {
	switch {
	case control == "" || control == "*":
		return baseURL
	case strings.HasPrefix(strings.ToLower(control), "rtsp://") || strings.HasPrefix(strings.ToLower(control), "rtsps://"):
		return control
	case strings.HasPrefix(control, "/"):
		if b, err := url.Parse(baseURL); err == nil {
			if r, err := b.Parse(control); err == nil {
				return r.String()
			}
		}
	}
	if strings.HasSuffix(baseURL, "/") {
		return baseURL + control
	}
	return baseURL + "/" + control
}

// controlFallback returns the track URL that a SETUP refused with 404,
// 454 or 459 is retried with once, or "" (CLI-21, RTSP-URL-02): the naive
// concatenation base + "/" + control, which many cameras need, when it
// differs from the resolved URL; else the RFC 3986 resolution (GStreamer's
// first choice), when that differs. An absolute control has no fallback.
func controlFallback(baseURL, control, resolved string) string {
	lower := strings.ToLower(control)
	if control == "" || control == "*" || strings.HasPrefix(lower, "rtsp://") || strings.HasPrefix(lower, "rtsps://") {
		return ""
	}
	naive := strings.TrimSuffix(baseURL, "/") + "/" + strings.TrimPrefix(control, "/")
	if naive != resolved {
		return naive
	}
	b, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	r, err := b.Parse(control)
	if err != nil || r.String() == resolved {
		return ""
	}
	return r.String()
}
