package playback

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// tagONVIFReplay is the option tag of ONVIF replay (ONVIF-01).
const tagONVIFReplay = "onvif-replay"

// allowedScales are the Scale values served; a request gets the nearest one
// and the response says which (RTSP-RNG-13).
var allowedScales = []float64{-8, -4, -2, -1, 0.5, 1, 2, 4, 8}

// presentation is one client's view of an archive window. Its methods run
// on the RTSP connection's goroutine; the sender goroutine runs a play.
type presentation struct {
	s       *Server
	win     window
	tracks  []*media.Track
	sdp     []byte
	log     *slog.Logger
	streams []*stream
	// tl is the merged view of the local index and Config.Remote; nil
	// without a Remote.
	tl *timeline

	// mu guards everything below.
	mu       sync.Mutex
	onvif    bool      // onvif-replay was required
	position time.Time // where a PLAY without Range resumes
	play     *play     // the running sender, nil when not playing
	admitted bool
	closed   bool
}

func newPresentation(s *Server, win window, tracks []*media.Track, req *rtsp.DescribeRequest, log *slog.Logger) (*presentation, error) {
	p := &presentation{s: s, win: win, position: win.start, log: log}
	for _, t := range tracks {
		if t.Codec == media.CodecUnknown {
			continue
		}
		st, err := newStream(len(p.tracks), t, s.cfg.MaxPayload)
		if err != nil {
			return nil, err
		}
		p.tracks, p.streams = append(p.tracks, t), append(p.streams, st)
	}
	if len(p.tracks) == 0 {
		return nil, &base.Error{Status: 415, Reason: "recording has no playable track"}
	}
	p.onvif = slices.Contains(req.Require, tagONVIFReplay)
	ranges, mediaRange := p.sdpRanges()
	p.sdp = media.MarshalSDP(p.tracks, media.SDPOptions{SessionName: win.camera + " archive",
		Ranges: ranges, MediaRange: mediaRange, ONVIF: true})
	return p, nil
}

// sdpRanges returns the a=range values of the answer (SDP-05): the window
// in npt (0 to its duration, open while it grows) and in clock time at
// session level, in an order that depends on the client, and the npt range
// again for every m= section. Why:
//   - GStreamer's rtspsrc keeps the first session-level a=range it can
//     parse as its segment: npt as seconds, a clock range as seconds since
//     1900-01-01. Plain rtspsrc sends those seconds back as Range: npt=, so
//     npt must come first for it. In onvif-mode it sends them as Range:
//     clock= counted from 1900 and clamps every seek to the range's end, so
//     only a clock range first lets it play and seek by true time (as ONVIF
//     replay servers answer, ONVIF-03). Its DESCRIBE is the same in both
//     modes, so npt comes first unless the DESCRIBE requires onvif-replay.
//     Without that Require, onvif-mode asks for our npt offsets as clock
//     times in January 1900, which fromClock reads as such: it plays and
//     seeks in window time.
//   - ffmpeg reads every a=range, at either level, keeps only npt and takes
//     the last one; after a clock line its start and duration are left
//     uninitialised (sdp_parse_line, libavformat/rtsp.c). The npt range of
//     the m= sections is the last a=range it meets.
func (p *presentation) sdpRanges() (session []string, media string) {
	npt := "npt=0-"
	clock := "clock=" + formatClock(p.win.start) + "-"
	if !p.win.growing {
		npt += fmt.Sprintf("%.3f", p.win.duration().Seconds())
		clock += formatClock(p.win.end)
	}
	if p.onvif {
		return []string{clock, npt}, npt
	}
	return []string{npt, clock}, npt
}

func formatClock(t time.Time) string {
	r := headers.Range{Unit: headers.RangeClock, Start: &headers.RangePoint{Clock: t}}
	s := r.Marshal()
	return s[len("clock=") : len(s)-1]
}

// SDP implements rtsp.Presentation.
func (p *presentation) SDP() []byte { return p.sdp }

// Controls implements rtsp.Presentation.
func (p *presentation) Controls() []string {
	cs := make([]string, len(p.tracks))
	for i, t := range p.tracks {
		cs[i] = t.Control
	}
	return cs
}

// Supports implements rtsp.Presentation: onvif-replay only (RTSP-OPT-02).
func (p *presentation) Supports(tag string) bool { return tag == tagONVIFReplay }

// Play implements rtsp.Presentation: start, resume or seek (RTSP-M-22/25).
func (p *presentation) Play(req *rtsp.PlayRequest) (*rtsp.PlayResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, &base.Error{Status: 454, Reason: "session closed"}
	}
	if slices.Contains(req.Require, tagONVIFReplay) {
		p.onvif = true
	}
	if req.Range == nil && p.play != nil {
		return p.play.response, nil // PLAY while playing without Range: liveness only
	}
	opts, err := p.playOptions(req)
	if err != nil {
		return nil, err
	}
	p.stopLocked()
	if !p.admitted {
		if !p.s.admit() {
			return nil, &base.Error{Status: 503, Reason: "too many playback sessions"}
		}
		p.admitted = true
	}
	pl, err := p.startPlay(opts, req)
	if err != nil {
		return nil, err
	}
	p.play = pl
	return pl.response, nil
}

// playOptions turns the request headers into what the sender needs.
func (p *presentation) playOptions(req *rtsp.PlayRequest) (playOptions, error) {
	o := playOptions{scale: 1, rateControl: req.RateControl, cseq: byte(req.CSeq), streams: req.Streams,
		out: req.Out, unit: headers.RangeNPT, onvif: p.onvif}
	if req.Scale != 0 {
		o.scale, o.scaleAsked = nearestScale(req.Scale), true
	}
	if !o.rateControl && o.scale != 1 && o.scale != -1 { // ONVIF-06
		o.scale = math.Copysign(1, o.scale)
	}
	switch req.Frames {
	case "", "all", "predicted":
	case "intra":
		o.intra = true
	default:
		return o, &base.Error{Status: 400, Reason: "unsupported Frames value"}
	}
	if math.Abs(o.scale) > 2 {
		o.intra = true // trick play: keyframes only, said with Frames: intra
	}
	return o, p.resolveRange(req.Range, &o)
}

// resolveRange sets o.from (and o.to) from the Range, or resumes (RTSP-RNG-05).
func (p *presentation) resolveRange(r *headers.Range, o *playOptions) error {
	o.from, o.to = p.position, p.win.end
	if o.scale < 0 {
		o.to = p.win.start
	}
	if p.win.growing && o.scale > 0 {
		o.to = time.Time{}
	}
	if r == nil {
		return nil
	}
	o.unit = r.Unit
	switch r.Unit {
	case headers.RangeNPT:
		if r.Start != nil && !r.Start.Now {
			o.from = p.win.start.Add(r.Start.Offset)
		}
		if r.End != nil && !r.End.Now {
			o.to = p.win.start.Add(r.End.Offset)
		}
	case headers.RangeClock:
		if r.Start != nil {
			o.from = p.fromClock(r.Start.Clock, o)
		}
		if r.End != nil {
			o.to = p.fromClock(r.End.Clock, o)
		}
	default:
		return &base.Error{Status: 501, Reason: "range unit not supported for archives"}
	}
	return p.checkBounds(o)
}

// ntpEpoch is 1900-01-01T00:00:00Z, the epoch of NTP timestamps, which
// ONVIF calls the prime epoch.
var ntpEpoch = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// unixEpoch bounds recorded times: nothing is recorded before it.
var unixEpoch = time.Unix(0, 0).UTC()

// fromClock returns the instant a clock Range point names. One before 1970
// is no recorded time but an npt offset counted from the NTP epoch: rtspsrc
// in onvif-mode reads the SDP's npt range as clock time since 1900 (see
// sdpRanges). It is then taken as that offset into the window, and
// o.clockFromEpoch makes the response spell its times the same way.
func (p *presentation) fromClock(t time.Time, o *playOptions) time.Time {
	if !t.Before(unixEpoch) {
		return t
	}
	o.clockFromEpoch = true
	return p.win.start.Add(t.Sub(ntpEpoch))
}

// checkBounds answers 457 for a start outside the window (RTSP-RNG-05) and
// a range whose direction disagrees with Scale (ONVIF-04).
func (p *presentation) checkBounds(o *playOptions) error {
	beforeStart := o.from.Before(p.win.start)
	afterEnd := !p.win.growing && !o.from.Before(p.win.end)
	if o.scale < 0 {
		afterEnd = o.from.After(p.win.end) && !p.win.growing
		beforeStart = !o.from.After(p.win.start)
	}
	if beforeStart || afterEnd {
		return &base.Error{Status: 457, Reason: "range outside the recorded window", Phrase: "Invalid Range: Outside The Recording"}
	}
	if !o.to.IsZero() && (o.scale > 0 && !o.to.After(o.from) || o.scale < 0 && !o.to.Before(o.from)) {
		return &base.Error{Status: 457, Reason: "range end does not follow its start in the playing direction"}
	}
	return nil
}

func nearestScale(v float64) float64 {
	best := allowedScales[0]
	for _, s := range allowedScales {
		if math.Abs(s-v) < math.Abs(best-v) {
			best = s
		}
	}
	return best
}

// Pause implements rtsp.Presentation: stop sending and keep the position
// (RTSP-M-27/28).
func (p *presentation) Pause() (headers.Range, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
	return headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{Offset: max(p.position.Sub(p.win.start), 0)}}, nil
}

// stopLocked stops the sender and records where it was.
func (p *presentation) stopLocked() {
	if p.play == nil {
		return
	}
	p.position = p.play.stop()
	p.play = nil
}

// Close implements rtsp.Presentation.
func (p *presentation) Close(reason error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.stopLocked()
	if p.admitted {
		p.s.release()
		p.log.Info("playback stopped", "reason", reason)
	}
}

// randomUint32 draws SSRCs, initial sequence numbers and timestamps
// (RTP-10).
func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return binary.BigEndian.Uint32(b[:])
}

// playStarted logs a play.
func (p *presentation) playStarted(o playOptions, start time.Time) {
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "playback started",
		slog.Time("start", start), slog.Float64("scale", o.scale), slog.Bool("rate_control", o.rateControl),
		slog.Bool("onvif", o.onvif))
}
