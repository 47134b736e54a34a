package rtsp_test

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// archiveSDP is a two-track archive answer (RTSP.md §14.1 shape).
const archiveSDP = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=cam1 archive\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n" +
	"a=range:npt=0-3600.000\r\nm=video 0 RTP/AVP 96\r\na=control:trackID=0\r\na=rtpmap:96 H264/90000\r\n" +
	"m=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"

// Describe serves "archive/..." paths with a fakePres (two tracks, one for
// "archive/single"); anything else is 404.
func (h *fakeHandler) Describe(_ context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dreqs = append(h.dreqs, req)
	if !strings.HasPrefix(req.Path, "archive/") {
		return nil, &base.Error{Status: 404, Reason: "no such presentation"}
	}
	p := &fakePres{controls: []string{"trackID=0", "trackID=1"}, closed: make(chan struct{}),
		seqs: []uint16{27811, 1204}, times: []uint32{3450012312, 98112334}, burst: 3}
	switch req.Path {
	case "archive/single":
		p.controls = p.controls[:1]
	case "archive/flood":
		p.burst = -1
	case "archive/gap":
		p.playErr = &base.Error{Status: 457, Reason: "no recording there"}
	}
	h.pres = append(h.pres, p)
	return p, nil
}

func (h *fakeHandler) presentation(t *testing.T, i int) *fakePres {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.pres) {
		t.Fatalf("presentation %d not described (%d)", i, len(h.pres))
	}
	return h.pres[i]
}

func (h *fakeHandler) describeReqs() []*rtsp.DescribeRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*rtsp.DescribeRequest(nil), h.dreqs...)
}

// fakePres is a Presentation whose sender writes burst packets per stream
// (burst < 0: until Output fails) and checks the contract: Close once, no
// Play or Pause after Close.
type fakePres struct {
	controls []string
	seqs     []uint16
	times    []uint32
	burst    int
	playErr  error
	closed   chan struct{}

	mu        sync.Mutex
	plays     []*rtsp.PlayRequest
	pauses    int
	closes    int
	reason    error
	violation string
	sendErr   error         // how the last sender ended
	ended     error         // what Ended reports (rtsp.Ender)
	stop      chan struct{} // stops the running sender
	wg        sync.WaitGroup
}

func (p *fakePres) SDP() []byte              { return []byte(archiveSDP) }
func (p *fakePres) Controls() []string       { return p.controls }
func (p *fakePres) Supports(tag string) bool { return tag == "onvif-replay" }

// SSRC implements rtsp.SSRCReporter.
func (p *fakePres) SSRC(i int) (uint32, bool) { return 0x4F2A91C3 + uint32(i), true }

func (p *fakePres) Play(req *rtsp.PlayRequest) (*rtsp.PlayResponse, error) {
	p.stopSender()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closes > 0 {
		p.violation = "Play after Close"
	}
	p.plays = append(p.plays, req)
	if p.playErr != nil {
		return nil, p.playErr
	}
	resp := &rtsp.PlayResponse{Range: headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{}, End: &headers.RangePoint{Offset: time.Hour}}}
	if r := req.Range; r != nil && r.Unit == headers.RangeNPT && r.Start != nil {
		resp.Range.Start = r.Start
	}
	if r := req.Range; r != nil && r.Unit == headers.RangeClock {
		resp.Range = *r
	}
	resp.Scale, resp.Frames = req.Scale, req.Frames
	if !req.RateControl {
		resp.RateControl = "no"
	}
	for _, s := range req.Streams {
		resp.Streams = append(resp.Streams, rtsp.StreamStart{Seq: p.seqs[s], RTPTime: p.times[s]})
	}
	stop := make(chan struct{})
	p.stop = stop
	out, streams := req.Out, req.Streams
	resp.Start = func() {
		p.wg.Go(func() { p.send(out, streams, stop) })
	}
	return resp, nil
}

// send writes RTP packets whose payload names stream and index.
func (p *fakePres) send(out rtsp.Output, streams []int, stop chan struct{}) {
	pkt := make([]byte, 1400)
	pkt[0], pkt[1] = 0x80, 96
	for n := 0; p.burst < 0 || n < p.burst; n++ {
		for _, s := range streams {
			select {
			case <-stop:
				return
			default:
			}
			binary.BigEndian.PutUint16(pkt[2:], p.seqs[s]+uint16(n))
			pkt[12], pkt[13] = byte(s), byte(n)
			if err := out.WriteRTP(s, pkt); err != nil {
				p.mu.Lock()
				p.sendErr = err
				p.mu.Unlock()
				return
			}
		}
	}
}

func (p *fakePres) stopSender() {
	p.mu.Lock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *fakePres) Pause() (headers.Range, error) {
	p.stopSender()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauses++
	return headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{Offset: 42 * time.Second}}, nil
}

// Ended implements rtsp.Ender.
func (p *fakePres) Ended() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

func (p *fakePres) end(err error) {
	p.mu.Lock()
	p.ended = err
	p.mu.Unlock()
}

func (p *fakePres) Close(reason error) {
	p.stopSender()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closes++
	if p.closes > 1 {
		p.violation = "Close called twice"
		return
	}
	p.reason = reason
	close(p.closed)
}

// waitClosed waits for Close and returns its reason.
func (p *fakePres) waitClosed(t *testing.T) error {
	t.Helper()
	rtsptest.Receive(t, "presentation closed", p.closed)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.violation != "" {
		t.Fatal(p.violation)
	}
	return p.reason
}

func (p *fakePres) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

func (p *fakePres) lastPlay(t *testing.T) *rtsp.PlayRequest {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.plays) == 0 {
		t.Fatal("Play not called")
	}
	return p.plays[len(p.plays)-1]
}

func (p *fakePres) lastSendErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendErr
}
