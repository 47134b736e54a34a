package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/api/liveview"
	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/live"
)

// LiveSource relays live cameras to the web page's live views;
// *live.Relay implements it.
type LiveSource interface {
	// Subscribe makes out a viewer of camera's live stream (see
	// live.Relay.Subscribe); the caller checked the read right.
	Subscribe(ctx context.Context, camera string, out live.Output) (*live.Subscription, error)
}

// Why a live view ended, as Deps.LiveEnded and the log line give it.
const (
	LiveEndClient   = "client"   // the browser closed or went away
	LiveEndCamera   = "camera"   // the camera stopped
	LiveEndSlow     = "slow"     // a write took longer than LiveWriteTimeout, or the viewer stayed behind
	LiveEndShutdown = "shutdown" // the server is stopping
	LiveEndError    = "error"    // the stream could not be muxed
)

// The live view's WebSocket subprotocols (RFC 6455 §1.9): the page offers
// liveProtocol, which the server selects, and may offer its bearer token
// as bearerProtocolPrefix + token, since a browser cannot set the
// Authorization header of a WebSocket. The token is never echoed.
const (
	liveProtocol         = "camvault.live.v1"
	bearerProtocolPrefix = "camvault.bearer."
)

// livePoll is how often a live view asks its subscription whether it
// should end (live.Subscription.Err), as the RTSP server asks its sessions.
const livePoll = time.Second

// handleLive serves a camera's live view to a browser (the web page): a
// WebSocket that carries, as text messages, a JSON description of the
// stream ({"type":"init","mime":...,"tracks":[...],"skipped":[...]}) before
// each init segment, and as binary messages the init segment and then one
// fragment per access unit (package liveview). The read right is checked
// before anything else; then the view is admitted (http.max_live_viewers
// and live.max_viewers: 503) and subscribed (a camera that is not live:
// 404; none of whose tracks a browser plays: 406), and only then upgraded,
// so that every refusal is an HTTP status. A GET without the upgrade gets
// the same checks and then 426.
//
// In a cluster (Deps.LivePeers), a camera that another live node owns is
// relayed from that node (relayLive) once the read right and the Origin
// are checked here.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request, c *caller) error {
	camera, err := s.cameraParam(r, c, auth.ActionRead)
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	if s.deps.Live == nil && s.deps.LivePeers == nil {
		return errNotAvailable
	}
	if err := sameOrigin(r); err != nil {
		return err
	}
	log := s.log.With("camera", camera, "peer", r.RemoteAddr, "user", c.name())
	if s.deps.LivePeers != nil {
		if n, ok := s.deps.LivePeers.LiveOwner(camera); ok {
			return s.relayLive(w, r, camera, n, log.With("owner", n.Name))
		}
	}
	if s.deps.Live == nil {
		return errNotAvailable
	}
	return s.serveLiveView(w, r, camera, log)
}

// serveLiveView serves camera's live view from Deps.Live to the request (a browser's, or
// another node's relay) whose rights were checked: admitted under http.max_live_viewers
// and live.max_viewers (503), subscribed (404, 406), then upgraded (426 without the
// upgrade) and run until it ends.
func (s *Server) serveLiveView(w http.ResponseWriter, r *http.Request, camera string, log *slog.Logger) error {
	if !s.takeLiveSlot() {
		return s.tooManyLiveViews()
	}
	defer s.releaseLiveSlot()
	v := newLiveViewer(s.cfg.LiveWriteTimeout)
	sub, err := s.deps.Live.Subscribe(r.Context(), camera, v)
	if err != nil {
		v.cancel()
		return subscribeStatus(err)
	}
	defer sub.Close()
	stream, err := liveview.NewStream(liveview.Config{Tracks: sub.Tracks, Sink: v})
	if err != nil {
		v.cancel()
		return errStatus(http.StatusNotAcceptable, err.Error())
	}
	if !isWebSocket(r) {
		v.cancel()
		return upgradeRequired(w)
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{liveProtocol}})
	if err != nil {
		v.cancel()
		log.Debug("live view upgrade failed", "err", err)
		return nil // Accept answered
	}
	s.serveLive(r.Context(), log, conn, sub, v, stream)
	return nil
}

// tooManyLiveViews is the refusal of a live view over http.max_live_viewers.
func (s *Server) tooManyLiveViews() error {
	return &statusError{status: http.StatusServiceUnavailable, retryAfter: 5 * time.Second,
		detail: fmt.Sprintf("too many live views (http.max_live_viewers is %d)", s.cfg.MaxLiveViewers)}
}

// upgradeRequired answers a live view asked for without the WebSocket upgrade.
func upgradeRequired(w http.ResponseWriter) error {
	w.Header().Set("Upgrade", "websocket")
	return errStatus(http.StatusUpgradeRequired, "this is a WebSocket: ask with Upgrade: websocket and subprotocol "+liveProtocol)
}

// serveLive runs an upgraded live view until the browser leaves, the
// camera stops, the view falls behind or the server stops, then closes
// the WebSocket with a reason the page shows.
func (s *Server) serveLive(ctx context.Context, log *slog.Logger, conn *websocket.Conn, sub *live.Subscription,
	v *liveViewer, stream *liveview.Stream) {
	begin := time.Now()
	log.Info("live view started", "tracks", strings.Join(stream.Played(), ", "))
	if s.deps.LiveStarted != nil {
		s.deps.LiveStarted()
	}
	read := conn.CloseRead(context.WithoutCancel(ctx)) // done when the browser closes or sends anything
	v.open(conn, stream)
	why, err := s.waitLive(ctx, read, sub, v)
	// Closing the connection first unblocks a write of the viewer's, which
	// sub.Close then waits for. Errors of Close: the peer is gone, nothing
	// to do.
	switch why {
	case LiveEndClient, LiveEndSlow:
		_ = conn.CloseNow() // no closing handshake with a peer that is gone or does not read
	case LiveEndCamera:
		_ = conn.Close(websocket.StatusNormalClosure, reasonCameraStopped)
	case LiveEndShutdown:
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
	default:
		_ = conn.Close(websocket.StatusInternalError, "live view failed")
	}
	sub.Close()
	attrs := []any{"reason", why, "dur", time.Since(begin).Round(time.Millisecond), "bytes", v.sent}
	switch {
	case why == LiveEndSlow:
		log.Warn("live view too slow; closed", append(attrs, "err", err)...)
	case why == LiveEndError:
		log.Error("live view failed", append(attrs, "err", err)...)
	default:
		log.Info("live view stopped", attrs...)
	}
	if s.deps.LiveEnded != nil {
		s.deps.LiveEnded(why)
	}
}

// waitLive waits for the end of a live view and says why, with the error
// that ended it, if any.
func (s *Server) waitLive(ctx context.Context, read context.Context, sub *live.Subscription, v *liveViewer) (string, error) {
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	for {
		select {
		case <-read.Done():
			return LiveEndClient, nil
		case <-ctx.Done():
			return LiveEndShutdown, nil
		case <-s.liveStop:
			return LiveEndShutdown, nil
		case <-sub.Done():
			// The viewer stopped writing: the camera is gone, or a write
			// failed (the viewer's goroutine has returned: v.err is its).
			if errors.Is(sub.Err(), live.ErrCameraGone) {
				return LiveEndCamera, nil
			}
			return v.ended()
		case <-tick.C:
			if err := sub.Err(); errors.Is(err, live.ErrCameraGone) {
				return LiveEndCamera, nil
			} else if err != nil {
				return LiveEndSlow, err
			}
		}
	}
}

// subscribeStatus answers a refused subscription.
func subscribeStatus(err error) error {
	switch {
	case errors.Is(err, live.ErrNotLive):
		return errStatus(http.StatusNotFound, "camera is not live")
	case errors.Is(err, live.ErrTooManyViewers):
		return &statusError{status: http.StatusServiceUnavailable, retryAfter: 5 * time.Second,
			detail: "too many live viewers (live.max_viewers)"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errStatus(http.StatusServiceUnavailable, "request ended while the camera started")
	}
	return err
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// sameOrigin refuses a request whose Origin is another host than the one
// it was sent to: a page elsewhere must not open a live view with the
// browser's remembered Basic credentials (cross-site WebSocket hijacking).
// The WebSocket library checks the same; this answers it as a problem,
// before the camera is subscribed.
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil // not a browser
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return errStatus(http.StatusForbidden, "a live view may be opened only by a page of this server")
	}
	return nil
}

// webSocketBearer returns the bearer token a WebSocket request offers as a
// subprotocol (bearerProtocolPrefix + token), if any.
func webSocketBearer(r *http.Request) (string, bool) {
	if !isWebSocket(r) {
		return "", false
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), bearerProtocolPrefix); ok {
				return tok, true
			}
		}
	}
	return "", false
}

// takeLiveSlot admits a live view under http.max_live_viewers; the
// caller releases it. A server that is closing admits none.
func (s *Server) takeLiveSlot() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.liveClosed || s.liveViews >= s.cfg.MaxLiveViewers {
		return false
	}
	s.liveViews++
	s.liveWG.Add(1)
	return true
}

func (s *Server) releaseLiveSlot() {
	s.mu.Lock()
	s.liveViews--
	s.mu.Unlock()
	s.liveWG.Done()
}

// stopLive ends every live view (hijacked connections, which
// http.Server's Shutdown and Close do not track) and waits for them.
func (s *Server) stopLive() {
	s.mu.Lock()
	if !s.liveClosed {
		s.liveClosed = true
		close(s.liveStop)
	}
	s.mu.Unlock()
	s.liveWG.Wait()
}

// liveMessage is the text message that precedes each init segment.
type liveMessage struct {
	Type    string   `json:"type"` // "init"
	MIME    string   `json:"mime"`
	Tracks  []string `json:"tracks"`
	Skipped []string `json:"skipped"`
}

// errLiveNotOpened ends a viewer whose handler gave up before the upgrade.
var errLiveNotOpened = errors.New("live view not opened")

// liveViewer is one live view: the live.Output that the relay's viewer
// goroutine writes to (through the Stream, once the WebSocket is open) and
// the liveview.Sink that writes its messages, each bounded by the write
// timeout.
type liveViewer struct {
	timeout time.Duration
	ready   chan struct{} // closed by open: conn and stream are set
	gone    chan struct{} // closed by cancel: never opened
	// timedOut receives when a write took longer than timeout and the
	// connection was closed for it.
	timedOut chan struct{}

	// Set by open before ready is closed; then used by the viewer
	// goroutine alone.
	conn   *websocket.Conn
	stream *liveview.Stream
	timer  *time.Timer

	// Owned by the viewer goroutine; read by the handler once it has
	// stopped (sub.Done or sub.Close).
	err       error  // the write that failed
	streamErr error  // the Stream's failure other than a write's
	sent      uint64 // bytes written
}

func newLiveViewer(timeout time.Duration) *liveViewer {
	return &liveViewer{timeout: timeout, ready: make(chan struct{}), gone: make(chan struct{}),
		timedOut: make(chan struct{}, 1)}
}

// open lets the viewer write to conn.
func (v *liveViewer) open(conn *websocket.Conn, stream *liveview.Stream) {
	v.conn, v.stream = conn, stream
	v.timer = time.AfterFunc(time.Hour, func() {
		select {
		case v.timedOut <- struct{}{}:
		default:
		}
		_ = conn.CloseNow() // the blocked write fails; the view ends as slow
	})
	v.timer.Stop()
	close(v.ready)
}

// cancel ends a viewer that will not be opened.
func (v *liveViewer) cancel() { close(v.gone) }

// wait blocks until the viewer is opened, or returns errLiveNotOpened.
func (v *liveViewer) wait() error {
	select {
	case <-v.ready:
		return nil
	case <-v.gone:
		return errLiveNotOpened
	}
}

// WriteRTP implements live.Output.
func (v *liveViewer) WriteRTP(stream int, pkt []byte) error {
	if err := v.wait(); err != nil {
		return err
	}
	err := v.stream.WriteRTP(stream, pkt)
	if err != nil && v.err == nil {
		v.streamErr = err
	}
	return err
}

// WriteRTCP implements live.Output.
func (v *liveViewer) WriteRTCP(stream int, pkt []byte) error {
	if err := v.wait(); err != nil {
		return err
	}
	return v.stream.WriteRTCP(stream, pkt)
}

// Init implements liveview.Sink: the description, then the init segment.
func (v *liveViewer) Init(mime string, init []byte) error {
	msg, err := json.Marshal(liveMessage{Type: "init", MIME: mime, Tracks: v.stream.Played(),
		Skipped: append([]string{}, v.stream.Skipped()...)}) // [] rather than null
	if err != nil {
		return err
	}
	if err := v.write(websocket.MessageText, msg); err != nil {
		return err
	}
	return v.write(websocket.MessageBinary, init)
}

// Fragment implements liveview.Sink.
func (v *liveViewer) Fragment(b []byte) error { return v.write(websocket.MessageBinary, b) }

// write sends one message within the write timeout.
func (v *liveViewer) write(typ websocket.MessageType, b []byte) error {
	v.timer.Reset(v.timeout)
	err := v.conn.Write(context.Background(), typ, b) // bounded by the timer, which needs no context per write
	v.timer.Stop()
	if err != nil {
		v.err = err
		return err
	}
	v.sent += uint64(len(b))
	return nil
}

// ended says why a viewer whose goroutine stopped ended: a write that
// timed out or failed (the browser went away), or the stream failed.
func (v *liveViewer) ended() (string, error) {
	select {
	case <-v.timedOut:
		return LiveEndSlow, fmt.Errorf("no fragment taken in %v: %w", v.timeout, v.err)
	default:
	}
	if v.streamErr != nil {
		return LiveEndError, v.streamErr
	}
	return LiveEndClient, nil
}
