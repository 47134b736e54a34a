package rtsp

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// handlePlay starts, resumes or seeks a play session (RTSP-M-21..25): the
// Presentation decides, the server answers with Session, Range, RTP-Info
// and the echoed headers, and starts the sender once the response is
// queued (RTSP-M-24).
func (c *conn) handlePlay(req *base.Request) (*base.Response, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.transition(ss, evPlay); err != nil {
		return nil, err
	}
	if ss == nil || ss.pres.play == nil {
		return nil, base.NewError(base.StatusSessionNotFound, "no play session", nil) // unreachable: the table refuses
	}
	if err := ss.checkAggregate(req.URL); err != nil {
		return nil, err
	}
	preq, err := playRequest(req, ss)
	if err != nil {
		return nil, err
	}
	resp, err := ss.pres.play.Play(preq)
	if err != nil {
		c.playRedirected(ss, err) // the session ends after TEARDOWN or the grace
		return nil, err
	}
	if resp == nil {
		return nil, base.NewError(base.StatusInternalServerError, "presentation returned no play response", nil)
	}
	ss.setState(statePlaying, time.Now())
	ss.armPlayStart(c.reqAt)
	if resp.Start != nil {
		c.after = resp.Start
		if !ss.tcp {
			c.afterWritten = make(chan struct{}) // UDP: media only after the response is out
		}
	}
	r := sessionResponse(ss)
	ss.playHeader(r.Header, preq.Streams, resp)
	return r, nil
}

// playRequest parses the PLAY headers: 400 on bad syntax, 501 on an
// unknown Range unit (RTSP-RNG-02).
func playRequest(req *base.Request, ss *session) (*PlayRequest, error) {
	h := req.Header
	pr := &PlayRequest{RateControl: true, Require: headers.RequiredOptions(h), Streams: ss.setupOrder(), Out: ss.out,
		Redirect: sessionRedirector{ss}}
	cseq, _ := strconv.ParseUint(h.Get("CSeq"), 10, 64) // validated by precheck
	pr.CSeq = uint32(cseq)
	var err error
	if v, ok := h.Lookup("Range"); ok {
		pr.Range = new(headers.Range)
		if err = pr.Range.Unmarshal(v); err != nil {
			return nil, err
		}
	}
	if v, ok := h.Lookup("Scale"); ok {
		if pr.Scale, err = headers.ParseScale(v); err != nil {
			return nil, err
		}
	}
	if v, ok := h.Lookup("Speed"); ok {
		if pr.Speed, err = headers.ParseSpeed(v); err != nil {
			return nil, err
		}
	}
	if v, ok := h.Lookup("Rate-Control"); ok {
		if pr.RateControl, err = headers.ParseYesNo(v); err != nil {
			return nil, err
		}
	}
	if v, ok := h.Lookup("Immediate"); ok {
		if pr.Immediate, err = headers.ParseYesNo(v); err != nil {
			return nil, err
		}
	}
	if v, ok := h.Lookup("Frames"); ok {
		if pr.Frames, err = headers.ParseFrames(v); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// playHeader writes Range, RTP-Info (url = each stream's SETUP
// Request-URI, RTSP-RNG-10) and the echoed Scale, Speed, Rate-Control
// and Frames (RTSP-M-23).
func (ss *session) playHeader(h base.Header, streams []int, resp *PlayResponse) {
	if v := resp.Range.Marshal(); v != "" {
		h.Set("Range", v)
	}
	var info headers.RTPInfo
	for i, st := range resp.Streams {
		if i >= len(streams) {
			break
		}
		e := headers.RTPInfoEntry{URL: ss.streams[streams[i]].url}
		if !st.Unknown {
			seq, ts := st.Seq, st.RTPTime
			e.Seq, e.RTPTime = &seq, &ts
		}
		info = append(info, e)
	}
	if len(info) > 0 {
		h.Set("RTP-Info", info.Marshal())
	}
	if resp.Scale != 0 {
		h.Set("Scale", headers.FormatDecimal(resp.Scale))
	}
	if resp.Speed != 0 {
		h.Set("Speed", headers.FormatDecimal(resp.Speed))
	}
	if resp.RateControl != "" {
		h.Set("Rate-Control", resp.RateControl)
	}
	if resp.Frames != "" {
		h.Set("Frames", resp.Frames)
	}
}

// setupOrder returns the set-up streams in SETUP order.
func (ss *session) setupOrder() []int {
	var order []int
	for i, st := range ss.streams {
		if st.setup {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		return int(ss.streams[a].seq) - int(ss.streams[b].seq)
	})
	return order
}

// checkAggregate refuses a track URL for PLAY, PAUSE and TEARDOWN of a
// session with several streams: only aggregate control is served (460,
// RTSP-M-21/27/34). A URL that names no track counts as aggregate.
func (ss *session) checkAggregate(rawURL string) error {
	if len(ss.setupOrder()) < 2 {
		return nil
	}
	if isTrackURL(ss.pres.url, ss.pres.controls, rawURL) {
		return base.NewError(base.StatusOnlyAggregateOperationAllowed, "track url on a multi-stream session", nil)
	}
	return nil
}

// pausePlay stops a playing session at its pause point (RTSP-M-27/28);
// in Ready it is a no-op. A Range in the request is checked, then the
// pause happens at once.
func (c *conn) pausePlay(req *base.Request, ss *session, next sessionState) (*base.Response, error) {
	if err := ss.checkAggregate(req.URL); err != nil {
		return nil, err
	}
	if v, ok := req.Header.Lookup("Range"); ok {
		var r headers.Range
		if err := r.Unmarshal(v); err != nil {
			return nil, err
		}
	}
	resp := sessionResponse(ss)
	if ss.getState() == statePlaying {
		r, err := ss.pres.play.Pause()
		if err != nil {
			return nil, err
		}
		if v := r.Marshal(); v != "" {
			resp.Header.Set("Range", v)
		}
	}
	ss.setState(next, time.Now())
	return resp, nil
}

// setupPlayStream records where the Output sends stream i and completes
// the reply: no mode, ssrc when the presentation tells it (RTSP-M-19).
func (c *conn) setupPlayStream(ss *session, i int, th *headers.Transport) {
	st := ss.streams[i]
	t := sendTarget{ok: true, tcp: ss.tcp}
	if ss.tcp {
		t.rtpCh, t.rtcpCh = uint8(st.channels.RTP), uint8(st.channels.RTCP)
		c.media.fill()
	} else {
		ip := c.peer.Addr() // never a client-given destination (SEC-05)
		t.rtp = netip.AddrPortFrom(ip, uint16(st.ports.RTP))
		t.rtcp = netip.AddrPortFrom(ip, uint16(st.ports.RTCP))
	}
	ss.setSend(i, t)
	th.Mode = headers.ModeUnset
	if r, ok := ss.pres.play.(SSRCReporter); ok {
		if v, ok := r.SSRC(i); ok {
			th.SSRC = &v
		}
	}
}
