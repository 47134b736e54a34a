package live

import (
	"context"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
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
		return nil, err
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
		return nil, err
	}
	resp.Start()
	pres.mu.Lock()
	done := pres.v.done
	pres.mu.Unlock()
	return &Subscription{Tracks: tracks, pres: pres, done: done}, nil
}

// Done is closed when the viewer stopped sending: the camera stopped (after
// the BYEs), or a write to the Output failed.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription.
func (s *Subscription) Close() { s.pres.Close(rtsp.ErrTeardown) }
