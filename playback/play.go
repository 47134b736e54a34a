package playback

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// playOptions is a PLAY request resolved against the window.
type playOptions struct {
	from, to    time.Time // to is zero for a growing window played forward
	unit        headers.RangeUnit
	scale       float64
	scaleAsked  bool
	rateControl bool
	intra       bool
	onvif       bool
	cseq        byte
	streams     []int
	out         rtsp.Output
	// clockFromEpoch is set when the clock Range counted window offsets
	// from the NTP epoch (presentation.fromClock); the response does too.
	clockFromEpoch bool
}

// play is one running PLAY: a cursor and the sender goroutine that walks it.
type play struct {
	p         *presentation
	o         playOptions
	cur       cursor
	response  *rtsp.PlayResponse
	startWall time.Time // presentation time of the first keyframe sent
	startTS   []uint32  // per stream: the RTP timestamp of startWall
	setUp     []bool    // per stream: SET UP by the client
	reported  []bool    // per stream: the SR of the play's first packet went out (sender goroutine)
	cancel    context.CancelFunc
	ctx       context.Context
	done      chan struct{}
	started   bool

	// Owned by the sender goroutine.
	mono0    time.Time     // monotonic start of pacing
	skipped  time.Duration // recording gaps skipped so far
	segStart time.Time     // segment whose parameters the streams carry
	byID     []*stream     // MP4 track ID - 1 -> stream (nil: not played)
	buf      []byte
	parsed   fmp4.ParsedFragment
	order    []int
	disc     bool     // next access unit follows a discontinuity (ONVIF D)
	fetch    *fetcher // reads of Config.Remote ahead; nil without one

	// mu guards position.
	mu       sync.Mutex
	position time.Time
}

// startPlay positions a new play and builds its response; the sender starts
// when the server calls the response's Start.
func (p *presentation) startPlay(o playOptions, req *rtsp.PlayRequest) (*play, error) {
	pl := &play{p: p, o: o, cur: cursor{store: p.s.cfg.Store, camera: p.win.camera, tl: p.tl}, done: make(chan struct{}),
		disc: true, setUp: make([]bool, len(p.streams)), reported: make([]bool, len(p.streams))}
	pl.ctx, pl.cancel = context.WithCancel(context.Background())
	pl.cur.ctx = pl.ctx
	if p.tl != nil {
		pl.fetch = &fetcher{tl: p.tl, ctx: pl.ctx, depth: p.s.cfg.RemoteReadAhead,
			waited: func() { p.s.count(func(st *Stats) { st.RemoteReadWaits++ }) }}
	}
	var err error
	if o.scale < 0 {
		err = pl.cur.seekReverse(o.from)
	} else {
		err = pl.cur.seekForward(o.from)
	}
	if err != nil {
		pl.cancel()
	}
	if errors.Is(err, errNoMedia) {
		return nil, &base.Error{Status: 457, Reason: "no recording at or after the requested time"}
	}
	if err != nil {
		return nil, err
	}
	pl.startWall = pl.cur.frag().Start
	if o.scale < 0 && o.from.Before(pl.cur.frag().End()) {
		pl.startWall = o.from
	}
	pl.position = pl.startWall
	for _, i := range o.streams {
		if i >= 0 && i < len(p.streams) {
			pl.setUp[i] = true
		}
	}
	pl.response = pl.buildResponse(req)
	pl.response.Start = pl.start
	return pl, nil
}

// buildResponse fills Range, Scale, Rate-Control, Frames and the RTP-Info
// values (RTSP-M-23, RTSP-RNG-10).
func (pl *play) buildResponse(req *rtsp.PlayRequest) *rtsp.PlayResponse {
	o, win := pl.o, pl.p.win
	resp := &rtsp.PlayResponse{Range: headers.Range{Unit: o.unit}}
	if o.unit == headers.RangeClock {
		resp.Range.Start = &headers.RangePoint{Clock: pl.clock(pl.startWall)}
		if !o.to.IsZero() {
			resp.Range.End = &headers.RangePoint{Clock: pl.clock(o.to)}
		}
	} else {
		resp.Range.Unit = headers.RangeNPT
		resp.Range.Start = &headers.RangePoint{Offset: max(pl.startWall.Sub(win.start), 0)}
		if !o.to.IsZero() && o.scale > 0 {
			resp.Range.End = &headers.RangePoint{Offset: o.to.Sub(win.start)}
		}
	}
	if o.scaleAsked {
		resp.Scale = o.scale
	}
	if !o.rateControl {
		resp.RateControl = "no"
	} else if o.onvif {
		resp.RateControl = "yes"
	}
	if o.intra {
		resp.Frames = "intra"
	}
	pl.startTS = make([]uint32, len(pl.p.streams))
	for _, i := range req.Streams {
		if i < 0 || i >= len(pl.p.streams) {
			continue
		}
		st := pl.p.streams[i]
		pl.startTS[i] = st.nextTS
		resp.Streams = append(resp.Streams, rtsp.StreamStart{Seq: st.pz.Seq(), RTPTime: st.nextTS})
	}
	return resp
}

// clock spells t for a clock Range: as is, or as its window offset from the
// NTP epoch when the request counted so (clockFromEpoch).
func (pl *play) clock(t time.Time) time.Time {
	if !pl.o.clockFromEpoch {
		return t
	}
	return ntpEpoch.Add(max(t.Sub(pl.p.win.start), 0))
}

// start runs the sender; the server calls it after the PLAY response.
func (pl *play) start() {
	pl.p.mu.Lock()
	defer pl.p.mu.Unlock()
	if pl.started || pl.p.play != pl {
		return
	}
	pl.started = true
	pl.p.playStarted(pl.o, pl.startWall)
	go pl.run()
}

// stop ends the sender and returns where it was.
func (pl *play) stop() time.Time {
	pl.cancel()
	if pl.started {
		<-pl.done
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.position
}

func (pl *play) setPosition(t time.Time) {
	pl.mu.Lock()
	pl.position = t
	pl.mu.Unlock()
}

func (pl *play) run() {
	defer close(pl.done)
	if pl.fetch != nil {
		defer pl.fetch.wait() // after the sender, which cancelled pl.ctx or finished
		defer pl.cancel()
	}
	pl.mono0 = time.Now()
	var err error
	if pl.o.scale < 0 {
		err = pl.runReverse()
	} else {
		err = pl.runForward()
	}
	switch {
	case err == nil, errors.Is(err, errNoMedia):
		pl.finish()
	case errors.Is(err, context.Canceled):
	default:
		pl.p.log.Warn("playback ended", "err", err)
	}
}

// finish sends BYE on every stream at the end of the range (RTSP-M-26); the
// session stays open for another PLAY.
func (pl *play) finish() {
	for i, st := range pl.p.streams {
		if pl.setUp[i] {
			_ = st.bye(pl.o.out) // the session may be gone already: nothing to do then
		}
	}
	pl.p.log.Info("playback reached the end of its range")
}

// runForward sends fragments forward from the cursor, skipping gaps.
func (pl *play) runForward() error {
	growing := pl.p.win.growing
	for {
		f := pl.cur.frag()
		if !pl.o.to.IsZero() && !f.Start.Before(pl.o.to) {
			return nil
		}
		last := pl.lastFragment()
		sendErr := pl.sendFragment(last)
		if sendErr != nil && !errors.Is(sendErr, errSkipped) {
			return sendErr
		}
		if last {
			return nil
		}
		var gap time.Duration
		var err error
		if errors.Is(sendErr, errSkipSegment) {
			err = pl.cur.skipClaim(pl.ctx)
		} else {
			gap, err = pl.cur.next(pl.ctx, growing)
		}
		if err != nil {
			return err
		}
		if sendErr != nil {
			// What a failed read held is skipped like a recording gap.
			gap = max(pl.cur.frag().Start.Sub(f.Start), 0)
		}
		// A recording gap is skipped at once; its E flag went out on the last
		// frame before it, and time still moves forward, so no D (ONVIF-10).
		pl.skipped += gap
	}
}

// lastFragment reports whether the current fragment ends the range.
func (pl *play) lastFragment() bool {
	f := pl.cur.frag()
	if !pl.o.to.IsZero() && !f.End().Before(pl.o.to) {
		return true
	}
	_, known := pl.cur.peekGapAfter()
	return !known && pl.cur.seg.State == storage.StateSealed && !pl.p.win.growing
}

// runReverse sends keyframe fragments (GOPs) in descending time order, the
// frames of each in decode order (ONVIF-11).
func (pl *play) runReverse() error {
	for {
		f := pl.cur.frag()
		if !f.End().After(pl.o.to) {
			return nil
		}
		pl.disc = true
		err := pl.sendFragment(false)
		switch {
		case errors.Is(err, errSkipSegment):
			err = pl.cur.enterPrev()
		case err == nil, errors.Is(err, errSkipped):
			err = pl.cur.prevKey()
		}
		if err != nil {
			return err
		}
	}
}

// sendFragment reads, parses and sends the current fragment's samples.
func (pl *play) sendFragment(last bool) error {
	f := pl.cur.frag()
	if err := pl.loadSegment(); err != nil {
		return err
	}
	b, err := pl.readFragment(f)
	if err != nil {
		return err
	}
	if err := fmp4.ParseFragment(b, &pl.parsed); err != nil {
		return err
	}
	gap, _ := pl.cur.peekGapAfter()
	endFlags := byte(0)
	if gap > 0 || last && !pl.p.win.growing {
		endFlags = flagEnd
	}
	if last {
		endFlags |= flagTerminal
	}
	return pl.sendSamples(endFlags)
}

// loadSegment maps MP4 track IDs to streams and takes the segment's
// parameter sets when the cursor entered another segment.
func (pl *play) loadSegment() error {
	if pl.segStart.Equal(pl.cur.seg.Start) && pl.byID != nil {
		return nil
	}
	init, err := pl.readInit()
	if err != nil {
		return err
	}
	tracks, err := media.TracksFromInit(init)
	if err != nil {
		return err
	}
	pl.byID = pl.byID[:0]
	for _, t := range tracks {
		pl.byID = append(pl.byID, pl.streamFor(t))
	}
	pl.segStart = pl.cur.seg.Start
	return nil
}

// streamFor matches a segment's track to the presentation's stream of the
// same codec and kind, in order.
func (pl *play) streamFor(t *media.Track) *stream {
	for _, st := range pl.p.streams {
		if st.track.Codec == t.Codec && !slices.Contains(pl.byID, st) {
			st.setParams(t)
			return st
		}
	}
	return nil
}

// sendSamples sends the parsed fragment's samples in decode-time order
// across tracks, paced unless Rate-Control is off.
func (pl *play) sendSamples(endFlags byte) error {
	p := &pl.parsed
	origin := pl.origin()
	pl.order = pl.order[:0]
	for i := range p.Samples {
		pl.order = append(pl.order, i)
	}
	slices.SortStableFunc(pl.order, func(a, b int) int {
		return pl.decodeWall(origin, &p.Samples[a]).Compare(pl.decodeWall(origin, &p.Samples[b]))
	})
	lastVideo := pl.lastVideoSample(origin)
	for _, i := range pl.order {
		s := &p.Samples[i]
		st, ok := pl.eligible(s)
		if !ok {
			continue
		}
		pres := origin.Add(ticks(int64(s.DTS)+int64(s.CTO), st.clock))
		if pres.Before(pl.startWall) && pl.o.scale > 0 && !st.track.IsVideo() {
			continue // audio ahead of the first keyframe
		}
		if pl.pastEnd(pres) {
			continue // RTSP-RNG-04: frames starting at or after the end are out
		}
		if err := pl.pace(pl.decodeWall(origin, s)); err != nil {
			return err
		}
		fr := frame{data: s.Data, ts: pl.rtpTime(st, pres), wall: pres, key: s.Key}
		if pl.disc && st.track.IsVideo() {
			fr.flags |= flagDiscontinuity
			pl.disc = false
		}
		if i == lastVideo {
			fr.flags |= endFlags
		}
		if err := pl.reportFirst(st, fr); err != nil {
			return err
		}
		if err := st.send(pl.o.out, fr, pl.o.onvif, pl.o.cseq); err != nil {
			return err
		}
		st.nextTS = fr.ts + uint32(st.clock/25)
		pl.setPosition(pres)
		if pl.o.rateControl {
			if err := st.senderReport(pl.o.out, time.Now(), pl.p.s.cfg.SenderReportInterval); err != nil {
				return err
			}
		}
	}
	return nil
}

// reportFirst sends a stream's sender report mapping the timestamp of its
// first frame in this play to the frame's capture time, before the frame
// (RTCP-05/06): after every PLAY, not only every SenderReportInterval. None
// without rate control, as for the periodic ones (ONVIF-12).
func (pl *play) reportFirst(st *stream, fr frame) error {
	if !pl.o.rateControl || pl.reported[st.idx] {
		return nil
	}
	pl.reported[st.idx] = true
	return st.report(pl.o.out, fr.ts, fr.wall, time.Now())
}

// eligible says whether a sample is sent: its stream is set up, audio only
// at normal speed, keyframes only in intra mode.
func (pl *play) eligible(s *fmp4.FragmentSample) (*stream, bool) {
	if s.TrackID == 0 || int(s.TrackID) > len(pl.byID) {
		return nil, false
	}
	st := pl.byID[s.TrackID-1]
	if st == nil || !pl.setUp[st.idx] {
		return nil, false
	}
	if !st.track.IsVideo() {
		return st, pl.o.scale == 1 && !pl.o.intra
	}
	return st, s.Key || !pl.o.intra
}

// lastVideoSample returns the index of the fragment's last eligible video
// sample (it carries the E and T flags), -1 if none.
func (pl *play) lastVideoSample(origin time.Time) int {
	last := -1
	for i := range pl.parsed.Samples {
		s := &pl.parsed.Samples[i]
		if st, ok := pl.eligible(s); ok && st.track.IsVideo() {
			pres := origin.Add(ticks(int64(s.DTS)+int64(s.CTO), st.clock))
			if !pl.pastEnd(pres) {
				last = i
			}
		}
	}
	return last
}

// pastEnd reports whether a frame presented at pres is out: at or after
// the end of a forward range, or of the claim of its segment (another
// segment plays that instant).
func (pl *play) pastEnd(pres time.Time) bool {
	if !pl.o.to.IsZero() && pl.o.scale > 0 && !pres.Before(pl.o.to) {
		return true
	}
	return !pl.cur.until.IsZero() && !pres.Before(pl.cur.until)
}

// origin is the wall-clock time of media time zero of the fragment's
// segment, anchored so that the fragment's first reference sample is
// presented at the fragment's start in the index (the index is built from
// the prft times, so for recorded data the two agree).
func (pl *play) origin() time.Time {
	p := &pl.parsed
	start := pl.cur.frag().Start
	for _, s := range p.Samples {
		if s.TrackID == p.RefTrack && int(s.TrackID) <= len(pl.byID) && pl.byID[s.TrackID-1] != nil {
			return start.Add(-ticks(int64(s.DTS)+int64(s.CTO), pl.byID[s.TrackID-1].clock))
		}
	}
	return p.Wall
}

func (pl *play) decodeWall(origin time.Time, s *fmp4.FragmentSample) time.Time {
	clock := int64(90000)
	if int(s.TrackID) <= len(pl.byID) && s.TrackID > 0 && pl.byID[s.TrackID-1] != nil {
		clock = pl.byID[s.TrackID-1].clock
	}
	return origin.Add(ticks(int64(s.DTS), clock))
}

// rtpTime maps a presentation time to the stream's continuous RTP clock:
// playback time since the start (gaps removed, divided by the scale), or
// the original sampling times when the client paces (ONVIF-11).
func (pl *play) rtpTime(st *stream, pres time.Time) uint32 {
	elapsed := pres.Sub(pl.startWall) - pl.skipped
	if pl.o.rateControl {
		elapsed = time.Duration(float64(elapsed) / math.Abs(pl.o.scale))
		if pl.o.scale < 0 {
			elapsed = -elapsed
		}
	}
	return pl.startTS[st.idx] + uint32(elapsed.Nanoseconds()*st.clock/int64(time.Second))
}

// pace waits until a sample's decode time is due on the playback clock.
func (pl *play) pace(dec time.Time) error {
	if err := pl.ctx.Err(); err != nil {
		return err
	}
	if !pl.o.rateControl {
		return nil
	}
	media := dec.Sub(pl.startWall) - pl.skipped
	if pl.o.scale < 0 {
		media = pl.startWall.Sub(pl.cur.frag().End()) // a reverse GOP goes out at once
	}
	due := pl.mono0.Add(time.Duration(float64(media) / math.Abs(pl.o.scale)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-pl.ctx.Done():
		return pl.ctx.Err()
	case <-t.C:
		return nil
	}
}

// ticks converts media ticks at clock Hz to a duration.
func ticks(n, clock int64) time.Duration {
	return time.Duration(n/clock)*time.Second + time.Duration(n%clock)*time.Second/time.Duration(clock)
}
