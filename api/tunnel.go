package api

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// Kinds of tunnel request, and the route label ServeHTTP reports for them.
const (
	tunnelHTTP      = "http"
	tunnelWebSocket = "websocket"
	tunnelRoute     = "rtsp tunnel"
)

// wsSubprotocol is the WebSocket subprotocol of RTSP over WebSocket (ONVIF
// Streaming Specification, "WebSocket transport for RTP/RTSP/TCP").
const wsSubprotocol = "rtsp.onvif.org"

// tunnelContentType is the media type of RTSP over HTTP (RTSP-HT-02).
const tunnelContentType = "application/x-rtsp-tunnelled"

// tunnelKind returns which tunnel r opens, "" for none: tunnelHTTP for a
// GET or POST with an x-sessioncookie, and a GET that accepts
// application/x-rtsp-tunnelled (the RTSP server answers it 400 without a
// cookie); tunnelWebSocket for a WebSocket upgrade offering rtsp.onvif.org.
// Any path: clients send the path of the RTSP URL ("/archive/cam").
func tunnelKind(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet && headerHasToken(r.Header, "Upgrade", "websocket"):
		if headerHasToken(r.Header, "Sec-Websocket-Protocol", wsSubprotocol) {
			return tunnelWebSocket
		}
	case r.Method == http.MethodGet && strings.Contains(strings.ToLower(r.Header.Get("Accept")), tunnelContentType),
		(r.Method == http.MethodGet || r.Method == http.MethodPost) && r.Header.Get("X-Sessioncookie") != "":
		return tunnelHTTP
	}
	return ""
}

// headerHasToken reports whether a comma-separated list in the header
// values of name holds token, compared without case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), token) {
				return true
			}
		}
	}
	return false
}

// serveTunnel hands the connection of a tunnel request to Deps.Tunnels: a
// tunnel GET or POST hijacked as it is, with its head for the RTSP server
// to read again, or a WebSocket once accepted. The connection leaves the
// HTTP server's admission (net/http reports it hijacked) and counts in the
// RTSP server's from then on. A WebSocket from a page of another origin is
// refused (403): a browser would otherwise lend a hostile page its address.
func (s *Server) serveTunnel(w *statusWriter, r *http.Request, kind string) {
	if !s.admit.claim(connOf(r)) {
		panic(http.ErrAbortHandler) // closed to make room after its request was read: nothing runs
	}
	if kind == tunnelWebSocket {
		s.serveWebSocket(w, r)
		return
	}
	nc, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.writeProblem(w, r, errStatus(http.StatusInternalServerError, "the connection cannot be handed to the rtsp server"))
		return
	}
	w.code = http.StatusOK // what the RTSP server answers a GET; a POST is never answered
	if err := s.deps.Tunnels.ServeHTTPTunnel(nc, tunnelHead(r, rw.Reader), r.TLS != nil); err != nil {
		s.log.Debug("rtsp tunnel not taken", "err", err, "peer", r.RemoteAddr)
	}
}

// serveWebSocket accepts a WebSocket with the subprotocol rtsp.onvif.org and
// hands its binary messages, as one stream, to the RTSP server.
func (s *Server) serveWebSocket(w *statusWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
	if err != nil {
		s.log.Debug("websocket refused", "err", err, "peer", r.RemoteAddr) // Accept answered
		return
	}
	w.code = http.StatusSwitchingProtocols
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary) // closed by the RTSP server
	if err := s.deps.Tunnels.ServeWebSocket(nc, r.TLS != nil); err != nil {
		s.log.Debug("rtsp websocket not taken", "err", err, "peer", r.RemoteAddr)
	}
}

// tunnelHead writes the head of r again, as the RTSP server reads a tunnel
// request, followed by what br holds after it (the start of a POST's body).
// Host is not among r's header fields; the RTSP server needs none.
func tunnelHead(r *http.Request, br *bufio.Reader) []byte {
	var b bytes.Buffer
	b.WriteString(r.Method + " " + r.RequestURI + " " + r.Proto + "\r\n")
	_ = r.Header.Write(&b) // a bytes.Buffer does not fail
	b.WriteString("\r\n")
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n) // buffered: cannot fail
		b.Write(p)
	}
	return b.Bytes()
}
