package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// Errors of Subscribe, for transports that answer them with statuses of
// their own (RTSP answers 404 and 503).
var (
	// ErrNotLive is returned when the camera is not pushed or pulled now,
	// and was not started on demand in time.
	ErrNotLive = errors.New("live: camera is not live")
	// ErrTooManyViewers is returned when Config.MaxViewers viewers play.
	ErrTooManyViewers = errors.New("live: too many live viewers")
)

// Output is where a viewer's packets go, by stream index: an RTSP
// session's rtsp.Output, or another transport's (Subscribe). A write that
// blocks holds back this viewer only; an error ends it.
type Output interface {
	WriteRTP(stream int, pkt []byte) error
	WriteRTCP(stream int, pkt []byte) error
}

// Subscription is one viewer of Subscribe.
type Subscription struct {
	// Tracks are copies of the camera's relayed tracks; stream i of the
	// Output is Tracks[i].
	Tracks []*media.Track
	pres   *presentation
	done   chan struct{}
}

// Subscribe makes out a viewer of camera's live stream, as an RTSP PLAY of
// every stream would (instant start from the cached keyframe, skipping
// when behind, an RTCP BYE per stream when the camera stops), for
// transports other than RTSP (the web page's WebSocket). An on-demand
// camera is started and waited for as at DESCRIBE. The caller checked the
// read right and must Close the subscription.
func (r *Relay) Subscribe(ctx context.Context, camera string, out Output) (*Subscription, error) {
	p, err := r.Describe(ctx, &rtsp.DescribeRequest{Path: camera})
	if err != nil {
		return nil, subscribeError(err)
	}
	pres := p.(*presentation)
	streams := make([]int, len(pres.h.toTrack))
	tracks := make([]*media.Track, len(streams))
	for i, k := range pres.h.toTrack {
		streams[i] = i
		t := *pres.h.tracks[k] // the caller's own copy: a depacketizer may update it
		tracks[i] = &t
	}
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: streams, Out: out})
	if err != nil {
		pres.Close(err)
		return nil, subscribeError(err)
	}
	resp.Start()
	pres.mu.Lock()
	done := pres.v.done
	pres.mu.Unlock()
	return &Subscription{Tracks: tracks, pres: pres, done: done}, nil
}

// subscribeError turns the RTSP statuses of Describe and Play into
// ErrNotLive and ErrTooManyViewers; other errors (ctx's) pass.
func subscribeError(err error) error {
	if be, ok := errors.AsType[*base.Error](err); ok {
		switch be.Status {
		case 404:
			return fmt.Errorf("%w: %s", ErrNotLive, be.Reason)
		case 503:
			return fmt.Errorf("%w: %s", ErrTooManyViewers, be.Reason)
		}
	}
	return err
}

// Done is closed when the viewer stopped sending: the camera stopped (after
// the BYEs), or a write to the Output failed.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err reports why the viewer should end, nil while it goes on: ErrCameraGone
// once the camera stopped and the viewer was sent the rest, or
// rtsp.ErrSlowClient (logged) when it has been behind, skipping to the
// next keyframe, for Config.WriteTimeout. The transport polls it, as the
// RTSP server polls its sessions (at most a second apart), and ends the
// viewer on an error.
func (s *Subscription) Err() error { return s.pres.Ended() }

// Close ends the subscription.
func (s *Subscription) Close() { s.pres.Close(rtsp.ErrTeardown) }
