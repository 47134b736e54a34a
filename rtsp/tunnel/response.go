package tunnel

import (
	"strconv"

	"github.com/camvault/camvault/rtsp/base"
)

// AppendOK appends the answer to a tunnel GET to b (RTSP-HT-02): status
// 200 in the request's HTTP/1.minor, ContentType, no caching and no
// Content-Length, since the answer lasts as long as the tunnel; RTSP
// responses and interleaved frames follow it as they are.
func AppendOK(b []byte, minor int, server string) []byte {
	b = appendStatusLine(b, minor, 200)
	b = appendHeader(b, "Server", server)
	b = appendHeader(b, "Content-Type", ContentType)
	b = appendHeader(b, "Cache-Control", "no-store")
	b = appendHeader(b, "Pragma", "no-cache")
	b = appendHeader(b, "Connection", "close")
	return append(b, "\r\n"...)
}

// AppendError appends an HTTP error answer with status (a refused GET or
// POST, which is then closed) to b: the header lines of h (WWW-Authenticate
// challenges of a 401), no body. The values of h must be free of CR and LF.
func AppendError(b []byte, minor, status int, server string, h base.Header) []byte {
	b = appendStatusLine(b, minor, status)
	b = appendHeader(b, "Server", server)
	for name, values := range h {
		for _, v := range values {
			b = appendHeader(b, name, v)
		}
	}
	b = appendHeader(b, "Content-Length", "0")
	b = appendHeader(b, "Connection", "close")
	return append(b, "\r\n"...)
}

func appendStatusLine(b []byte, minor, status int) []byte {
	b = append(b, "HTTP/1."...)
	b = strconv.AppendInt(b, int64(min(max(minor, 0), 1)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, statusText(status)...)
	return append(b, "\r\n"...)
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// statusText returns the HTTP reason phrase of the statuses a tunnel
// answers with.
func statusText(status int) string {
	switch status {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 405:
		return "Method Not Allowed"
	case 409:
		return "Conflict"
	case 414:
		return "URI Too Long"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Error"
}
