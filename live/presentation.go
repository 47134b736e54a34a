package live

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// presentation is one client session's view of a live camera; it
// implements rtsp.Presentation, rtsp.SSRCReporter and rtsp.Ender.
type presentation struct {
	h       *hub
	release func() // gives back the on-demand camera (Config.OnDemand), or nil
	log     *slog.Logger

	// mu guards the fields below.
	mu       sync.Mutex
	closed   bool
	admitted bool
	v        *viewer // the playing viewer, nil when not playing
	started  bool    // v's sender runs
	resp     *rtsp.PlayResponse
	since    time.Time
}

func (p *presentation) SDP() []byte          { return p.h.sdp }
func (p *presentation) Controls() []string   { return p.h.controls }
func (p *presentation) Supports(string) bool { return false }

// SSRC implements rtsp.SSRCReporter: the camera's, once it has sent RTP.
func (p *presentation) SSRC(stream int) (uint32, bool) {
	if stream < 0 || stream >= len(p.h.toTrack) {
		return 0, false
	}
	return p.h.ssrc(p.h.toTrack[stream])
}

// Play starts relaying (RTSP-M-22). A live stream cannot seek: a Range is
// answered from now on, and a PLAY while playing changes nothing.
func (p *presentation) Play(req *rtsp.PlayRequest) (*rtsp.PlayResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, &base.Error{Status: 454, Reason: "session closed"}
	}
	if p.v != nil {
		return p.resp, nil
	}
	if req.Scale != 0 && req.Scale != 1 || req.Speed != 0 && req.Speed != 1 {
		return nil, &base.Error{Status: 456, Reason: "a live stream plays at normal speed only"}
	}
	if r := req.Range; r != nil && r.Unit != headers.RangeNPT && r.Unit != headers.RangeClock {
		return nil, &base.Error{Status: 501, Reason: "range unit not supported for live streams"}
	}
	if !p.admitted {
		if !p.h.r.admit() {
			return nil, &base.Error{Status: 503, Reason: "too many live viewers"}
		}
		p.admitted = true
	}
	v := newViewer(p.h, req.Streams)
	v.redirect = req.Redirect
	starts, ok := p.h.join(v, req.Streams)
	if !ok && p.release != nil {
		// An on-demand camera that ended between DESCRIBE and PLAY (its
		// last viewer's linger ran out) is being pulled again for this
		// one: play the next session if it describes the same media.
		if h, err := p.h.r.hubFor(context.Background(), p.h.camera, true); err == nil && bytes.Equal(h.sdp, p.h.sdp) {
			p.h = h
			starts, ok = h.join(v, req.Streams)
		}
	}
	if !ok {
		return nil, &base.Error{Status: 404, Reason: "camera is not live"}
	}
	out := req.Out
	p.resp = &rtsp.PlayResponse{Range: headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{}},
		Streams: starts}
	p.resp.Start = func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.v == v && !p.started {
			p.started = true
			go v.run(out)
		}
	}
	p.v, p.since = v, time.Now()
	p.log.Info("live viewer started")
	return p.resp, nil
}

// Pause stops relaying; the next PLAY starts again at the cached keyframe.
func (p *presentation) Pause() (headers.Range, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked("paused")
	return headers.Range{}, nil
}

func (p *presentation) stopLocked(reason any) {
	if p.v == nil {
		return
	}
	p.h.leave(p.v)
	p.v.halt(p.started)
	skips, dropped := p.v.stats()
	p.log.Info("live viewer stopped", "reason", reason, "dur", time.Since(p.since).Round(time.Millisecond),
		"fell_behind", skips, "packets_skipped", dropped)
	p.v, p.started, p.resp = nil, false, nil
}

// Close implements rtsp.Presentation.
func (p *presentation) Close(reason error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.stopLocked(reason)
	if p.admitted {
		p.h.r.release()
	}
	if p.release != nil {
		p.release()
	}
}

// Ended implements rtsp.Ender: the camera stopped (once the viewer has
// been sent the rest and a BYE), or the viewer has been behind for
// WriteTimeout.
func (p *presentation) Ended() error {
	// The server's reaper asks every session in turn: never wait here for
	// a PAUSE that waits for this viewer's sender.
	if !p.mu.TryLock() {
		return nil
	}
	v, h := p.v, p.h
	p.mu.Unlock()
	if v == nil {
		if h.isClosed() {
			return ErrCameraGone
		}
		return nil
	}
	if v.isFinished() {
		return ErrCameraGone
	}
	if lag := v.lag(time.Now()); lag > h.r.cfg.WriteTimeout {
		p.log.Warn("live viewer too slow", "behind_for", lag.Round(time.Millisecond))
		return rtsp.ErrSlowClient
	}
	return nil
}
