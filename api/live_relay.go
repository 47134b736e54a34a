package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/storage"
)

// peerLivePattern is the route of the live views this node serves to the other nodes'
// relays (Deps.PeerToken): the same stream as live.ws.
const peerLivePattern = "GET " + ClusterPathPrefix + "cameras/{camera}/live.ws"

// Why a relayed live view ended, besides the LiveEnd constants.
const (
	LiveEndMoved = "moved" // the camera's owner changed: the page connects again, to the new one
	LiveEndOwner = "owner" // the owner closed the view, went silent or could not be reached
)

// Close reasons a relayed view gives the browser (the page shows them).
const (
	reasonCameraStopped = "camera stopped" // also a view served here
	reasonMoved         = "camera moved"
	reasonOwner         = "owner node unreachable"
)

// handlePeerLive serves a camera's live view to another node's relay: the peer token
// first (401 before anything else), then as live.ws serves a browser.
func (s *Server) handlePeerLive(w http.ResponseWriter, r *http.Request, _ *caller) error {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.deps.PeerToken)) != 1 {
		s.log.Debug("peer live view refused: no valid token", "peer", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="camvault cluster"`)
		return errStatus(http.StatusUnauthorized, "a node's peer token is required")
	}
	camera := r.PathValue("camera")
	if err := storage.ValidCamera(camera); err != nil {
		return errStatus(http.StatusBadRequest, "invalid camera name")
	}
	if s.deps.Live == nil {
		return errNotAvailable
	}
	return s.serveLiveView(w, r, camera, s.log.With("camera", camera, "peer", r.RemoteAddr, "relay", true))
}

// relayLive serves camera's live view from owner, another node: it takes a slot of
// http.max_live_viewers, opens owner's peer live endpoint (whose refusals, before any
// upgrade, become this answer's status), upgrades the browser's request and copies the
// owner's messages to it as they are, until either side or the ownership ends it.
func (s *Server) relayLive(w http.ResponseWriter, r *http.Request, camera string, owner PeerNode, log *slog.Logger) error {
	if !s.takeLiveSlot() {
		return s.tooManyLiveViews()
	}
	defer s.releaseLiveSlot()
	up, err := s.dialOwner(r.Context(), camera, owner)
	if err != nil {
		return err
	}
	if !isWebSocket(r) {
		_ = up.Close(websocket.StatusNormalClosure, "") // the owner's checks passed: only the upgrade is missing
		return upgradeRequired(w)
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{liveProtocol}})
	if err != nil {
		_ = up.Close(websocket.StatusNormalClosure, "")
		log.Debug("live view upgrade failed", "err", err)
		return nil // Accept answered
	}
	s.runRelay(r.Context(), log, conn, up, camera, owner)
	return nil
}

// dialOwner opens owner's peer live endpoint of camera within http.live_peer_dial_timeout.
// A refusal is returned as the status the browser gets: the owner's 404, 406 and 503 as
// they are, anything else as 502.
func (s *Server) dialOwner(ctx context.Context, camera string, owner PeerNode) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LivePeerDialTimeout)
	defer cancel()
	u := strings.TrimSuffix(owner.URL, "/") + ClusterPathPrefix + "cameras/" + url.PathEscape(camera) + "/live.ws"
	up, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + owner.Token}},
		Subprotocols: []string{liveProtocol},
	})
	if err == nil {
		up.SetReadLimit(s.cfg.LivePeerMaxMessageBytes)
		return up, nil
	}
	if resp == nil {
		return nil, errStatus(http.StatusBadGateway, fmt.Sprintf("cannot reach node %s, which has the camera live: %v", owner.Name, err))
	}
	detail := problemDetail(resp.Body)
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusNotAcceptable:
		return nil, errStatus(resp.StatusCode, fmt.Sprintf("%s (on node %s)", detail, owner.Name))
	case http.StatusServiceUnavailable:
		return nil, &statusError{status: resp.StatusCode, retryAfter: 5 * time.Second,
			detail: fmt.Sprintf("%s (on node %s)", detail, owner.Name)}
	}
	return nil, errStatus(http.StatusBadGateway, fmt.Sprintf("node %s, which has the camera live, answered %d: %s", owner.Name, resp.StatusCode, detail))
}

// problemDetail returns the detail of a problem document body (the first KiB, which is
// what the WebSocket library keeps of a refusal), else its status text's stand-in.
func problemDetail(body io.ReadCloser) string {
	if body == nil {
		return "no detail"
	}
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, 1<<10)) // a short read leaves the detail out
	var p struct{ Detail string }
	if json.Unmarshal(b, &p) != nil || p.Detail == "" {
		return "no detail"
	}
	return p.Detail
}

// relayEnd is why the copy from the owner to the browser stopped.
type relayEnd struct {
	why   string
	close websocket.CloseError // the owner's close, when it sent one
	err   error
}

// runRelay copies the owner's messages to the browser until the browser leaves or falls
// behind (a write longer than http.live_write_timeout), the owner closes or goes silent
// (http.live_peer_idle_timeout), the camera's owner changes, or the server stops; then it
// closes both WebSockets with a reason and logs one line.
func (s *Server) runRelay(ctx context.Context, log *slog.Logger, conn, up *websocket.Conn, camera string, owner PeerNode) {
	begin := time.Now()
	log.Info("live view started", "relayed", true)
	if s.deps.LiveStarted != nil {
		s.deps.LiveStarted()
	}
	read := conn.CloseRead(context.WithoutCancel(ctx)) // done when the browser closes or sends anything
	var sent atomic.Uint64
	copied := make(chan relayEnd, 1)
	go func() { copied <- s.copyLive(conn, up, &sent) }()
	why, end, waited := s.waitRelay(ctx, read, copied, camera, owner)
	switch why {
	case LiveEndClient:
		_ = conn.CloseNow()
		_ = up.Close(websocket.StatusNormalClosure, "viewer left")
	case LiveEndSlow:
		_ = conn.CloseNow() // it does not read: no closing handshake
		_ = up.Close(websocket.StatusNormalClosure, "viewer too slow")
	case LiveEndMoved:
		_ = up.CloseNow() // the old owner may be gone
		_ = conn.Close(websocket.StatusGoingAway, reasonMoved)
	case LiveEndShutdown:
		_ = up.Close(websocket.StatusGoingAway, "server shutting down")
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
	default: // the owner ended it: its close goes on to the browser as it came
		_ = up.CloseNow()
		if end.close.Code == 0 || conn.Close(end.close.Code, end.close.Reason) != nil { // 1005 and the like cannot be sent
			_ = conn.Close(websocket.StatusBadGateway, reasonOwner)
		}
	}
	// Whatever a close above left open (a handshake that failed) goes now; then the copy's
	// read or write has failed.
	_, _ = conn.CloseNow(), up.CloseNow()
	if !waited {
		end = <-copied
	}
	attrs := []any{"relayed", true, "reason", why, "dur", time.Since(begin).Round(time.Millisecond), "bytes", sent.Load()}
	switch {
	case why == LiveEndSlow:
		log.Warn("live view too slow; closed", append(attrs, "err", end.err)...)
	case why == LiveEndOwner && end.close.Code == 0:
		log.Warn("live view lost its owner node", append(attrs, "err", end.err)...)
	default:
		if end.close.Code != 0 {
			attrs = append(attrs, "owner_close", end.close.Reason)
		}
		log.Info("live view stopped", attrs...)
	}
	if s.deps.LiveEnded != nil {
		s.deps.LiveEnded(why)
	}
}

// waitRelay waits for the end of a relayed view and says why; waited reports that the
// copy's end was received (end is it).
func (s *Server) waitRelay(ctx context.Context, read context.Context, copied <-chan relayEnd, camera string,
	owner PeerNode) (why string, end relayEnd, waited bool) {
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	for {
		select {
		case <-read.Done():
			return LiveEndClient, relayEnd{}, false
		case <-ctx.Done():
			return LiveEndShutdown, relayEnd{}, false
		case <-s.liveStop:
			return LiveEndShutdown, relayEnd{}, false
		case end := <-copied:
			return end.why, end, true
		case <-tick.C:
			if n, ok := s.deps.LivePeers.LiveOwner(camera); !ok || n.Name != owner.Name {
				return LiveEndMoved, relayEnd{}, false
			}
		}
	}
}

// copyLive copies up's messages to conn, each read within http.live_peer_idle_timeout and
// each write within http.live_write_timeout (a timer closes the connection that overran,
// which fails the blocked call), until one fails.
func (s *Server) copyLive(conn, up *websocket.Conn, sent *atomic.Uint64) relayEnd {
	var idle, slow atomic.Bool
	readTimer := time.AfterFunc(time.Hour, func() { idle.Store(true); _ = up.CloseNow() })
	defer readTimer.Stop()
	writeTimer := time.AfterFunc(time.Hour, func() { slow.Store(true); _ = conn.CloseNow() })
	defer writeTimer.Stop()
	ctx := context.Background() // bounded by the timers, which need no context per message
	for {
		readTimer.Reset(s.cfg.LivePeerIdleTimeout)
		typ, b, err := up.Read(ctx)
		readTimer.Stop()
		if err != nil {
			end := relayEnd{why: LiveEndOwner, err: err}
			if idle.Load() {
				end.err = fmt.Errorf("nothing from the owner in %v", s.cfg.LivePeerIdleTimeout)
			} else if ce, ok := errors.AsType[websocket.CloseError](err); ok {
				end.close = ce
				if ce.Code == websocket.StatusNormalClosure && ce.Reason == reasonCameraStopped {
					end.why = LiveEndCamera
				}
			}
			return end
		}
		writeTimer.Reset(s.cfg.LiveWriteTimeout)
		err = conn.Write(ctx, typ, b)
		writeTimer.Stop()
		if err != nil {
			if slow.Load() {
				return relayEnd{why: LiveEndSlow, err: fmt.Errorf("no message taken in %v: %w", s.cfg.LiveWriteTimeout, err)}
			}
			return relayEnd{why: LiveEndClient, err: err}
		}
		sent.Add(uint64(len(b)))
	}
}
