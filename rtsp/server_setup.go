package rtsp

import (
	"net/netip"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// setupPlan is what a SETUP will do once accepted.
type setupPlan struct {
	ss      *session
	created bool
	stream  int
	next    sessionState
	cands   headers.Transports // acceptable specs, client order
}

// handleSetup sets up one stream (RTSP-M-14..18): mode=record after
// ANNOUNCE, or play on a described presentation (Handler.Describe is
// called when no DESCRIBE on the connection covers the URL).
func (c *conn) handleSetup(req *base.Request) (*base.Response, error) {
	plan, err := c.planSetup(req)
	if err != nil {
		return nil, err
	}
	ss := plan.ss
	seq := ss.streams[plan.stream].seq
	if ss.streams[plan.stream].setup {
		c.releaseStream(ss, plan.stream) // re-SETUP in ready(-record) replaces the transport
	}
	th, err := c.reserve(ss, plan.stream, plan.cands)
	if err != nil {
		return nil, err // a new session was not committed: nothing to undo
	}
	if seq == 0 {
		ss.setups++
		seq = ss.setups
	}
	ss.streams[plan.stream].url = req.URL
	ss.streams[plan.stream].seq = seq
	if ss.pres.play != nil {
		c.setupPlayStream(ss, plan.stream, th)
	}
	if plan.created {
		c.commitSession(ss)
	}
	ss.setState(plan.next, time.Now())
	h := base.Header{}
	h.Set("Transport", th.Marshal())
	h.Set("Session", (&headers.Session{ID: ss.id, Timeout: c.srv.cfg.SessionTimeout}).Marshal())
	return &base.Response{StatusCode: base.StatusOK, Header: h}, nil
}

// planSetup runs every check that can refuse the SETUP before any
// resource is reserved, and finds or creates the session. Require is
// checked first, against the presentation the SETUP is for (RTSP-OPT-01).
func (c *conn) planSetup(req *base.Request) (*setupPlan, error) {
	ss, err := c.requestSession(req)
	if err != nil {
		return nil, err
	}
	specs, terr := setupTransports(req)
	p := &setupPlan{ss: ss, cands: c.acceptable(ss, specs)}
	ev := evSetupPlay
	if setupMode(specs, p.cands) == headers.ModeRecord {
		ev = evSetupRecord
	}
	pres, err := c.setupPresentation(req, ss, ev)
	if err != nil {
		return nil, err
	}
	var play Presentation
	if pres != nil {
		play = pres.play
	}
	if err := checkRequire(req.Header, play); err != nil {
		return nil, err
	}
	if terr != nil {
		return nil, terr
	}
	if len(p.cands) == 0 {
		return nil, base.NewError(base.StatusUnsupportedTransport, "no acceptable transport", errNoTransport)
	}
	if p.next, err = c.transition(ss, ev); err != nil {
		return nil, err
	}
	if p.stream, err = c.matchStream(pres, ss, req.URL); err != nil {
		return nil, err
	}
	if ss == nil {
		c.updateIdle()
		if len(c.sessions) >= c.srv.cfg.MaxSessionsPerConnection { // SEC-03
			return nil, base.NewError(base.StatusNotEnoughBandwidth, "too many sessions on connection", nil)
		}
		p.ss, p.created = newSession(c, pres), true
	}
	return p, nil
}

// setupTransports parses the Transport header (400 when absent or bad).
func setupTransports(req *base.Request) (headers.Transports, error) {
	v, ok := req.Header.Lookup("Transport")
	if !ok {
		return nil, base.NewError(base.StatusBadRequest, "setup without transport", nil)
	}
	var specs headers.Transports
	if err := specs.Unmarshal(v); err != nil {
		return nil, err
	}
	return specs, nil
}

// setupMode is the mode of the first acceptable spec, else of the first.
func setupMode(specs, cands headers.Transports) headers.TransportMode {
	if len(cands) > 0 {
		return cands[0].Mode
	}
	if len(specs) > 0 {
		return specs[0].Mode
	}
	return headers.ModeUnset
}

// setupPresentation returns what the SETUP is for: the session's
// presentation, the announced publication (record), or for play without
// a session a described presentation. It is nil when the state table
// will refuse the SETUP.
func (c *conn) setupPresentation(req *base.Request, ss *session, ev event) (*announcement, error) {
	switch {
	case ss != nil:
		return ss.pres, nil
	case ev == evSetupRecord || c.pending != nil:
		return c.pending, nil
	}
	return c.presentationFor(req)
}

// matchStream finds the stream of pres the URL designates. A URL of
// another presentation described on this connection gets 459 (RTSP-M-16).
func (c *conn) matchStream(pres *announcement, ss *session, setupURL string) (int, error) {
	if pres == nil {
		return 0, base.NewError(base.StatusMethodNotValidInThisState, "nothing to set up", nil) // unreachable: the table refuses
	}
	i, err := matchTrack(pres.url, pres.controls, setupURL)
	if err != nil && ss != nil && errorStatus(err) == base.StatusNotFound && c.matchUnused(setupURL) != nil {
		return 0, base.NewError(base.StatusAggregateOperationNotAllowed, "session belongs to another presentation", nil)
	}
	return i, err
}

// commitSession publishes a new session and takes the pending announcement
// into it (RTSP-M-15).
func (c *conn) commitSession(ss *session) {
	if ss.pres == c.pending {
		c.pending = nil
	}
	ss.transport = TransportUDP // fixed from now on: acceptable keeps it
	if ss.tcp {
		ss.transport = TransportTCP
	}
	c.takeUnused(ss.pres)
	c.sessions = append(c.sessions, ss)
	c.srv.addSession(ss)
	ss.log.Info("rtsp session start", "mode", ss.mode(), "streams", len(ss.streams))
}

// acceptable filters the specs the server can serve: RTP/AVP unicast
// (RTSP-TR-06), UDP only when enabled, with client_port and neither on
// RTSPS (media would travel in clear) nor in a tunnel (RTSP-HT-06: media
// goes where the RTSP goes), and the lower transport of the streams
// already set up in the session.
func (c *conn) acceptable(ss *session, specs headers.Transports) headers.Transports {
	var out headers.Transports
	for _, t := range specs {
		if t.Profile != "RTP/AVP" || t.Multicast {
			continue
		}
		if ss != nil && ss.hasStreams() && ss.tcp != (t.Lower == headers.LowerTCP) {
			continue
		}
		if t.Lower == headers.LowerUDP && (c.srv.udp == nil || c.secure || c.tunnel != "" || t.ClientPort == nil || t.ClientPort.RTP == 0 || t.ClientPort.RTCP == 0) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// reserve assigns channels or registers UDP client ports for the first
// spec that can be served and returns the reply spec (RTSP-TR-07/08/12).
func (c *conn) reserve(ss *session, stream int, cands headers.Transports) (*headers.Transport, error) {
	mode := cands[0].Mode
	for _, t := range cands {
		if t.Mode != mode {
			continue
		}
		th, ok := (*headers.Transport)(nil), false
		if t.Lower == headers.LowerTCP {
			th, ok = c.reserveTCP(ss, stream, t.Interleaved)
		} else {
			th, ok = c.reserveUDP(ss, stream, *t.ClientPort)
		}
		if ok {
			return th, nil
		}
	}
	return nil, base.NewError(base.StatusUnsupportedTransport, "client ports in use", errNoTransport)
}

// reserveTCP takes the requested channel pair if both are free, else the
// lowest free even pair (RTSP-TR-12). interleaved=N means N, N+1.
func (c *conn) reserveTCP(ss *session, stream int, want *headers.PortPair) (*headers.Transport, bool) {
	pair, ok := headers.PortPair{}, false
	if want != nil && want.RTCP == want.RTP+1 && want.RTP%2 == 0 {
		pair, ok = *want, c.channelFree(want.RTP) && c.channelFree(want.RTCP)
	}
	for ch := 0; !ok && ch < 256; ch += 2 {
		pair, ok = headers.PortPair{RTP: ch, RTCP: ch + 1}, c.channelFree(ch) && c.channelFree(ch+1)
	}
	if !ok {
		return nil, false
	}
	c.channels[pair.RTP] = channelTarget{ss: ss, stream: stream}
	c.channels[pair.RTCP] = channelTarget{ss: ss, stream: stream, rtcp: true}
	ss.tcp = true
	ss.streams[stream] = streamSetup{setup: true, channels: pair}
	return &headers.Transport{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: &pair, Mode: headers.ModeRecord}, true
}

func (c *conn) channelFree(ch int) bool {
	t := c.channels[ch]
	return t.ss == nil || t.ss.isClosed()
}

// reserveUDP registers the RTSP peer's IP with the client ports: media is
// accepted from there only, whatever destination says (RTSP-TR-09, SEC-06).
func (c *conn) reserveUDP(ss *session, stream int, ports headers.PortPair) (*headers.Transport, bool) {
	ip := c.peer.Addr()
	rtp := netip.AddrPortFrom(ip, uint16(ports.RTP))
	rtcp := netip.AddrPortFrom(ip, uint16(ports.RTCP))
	if !c.srv.udp.register(ss, stream, rtp, rtcp) {
		return nil, false
	}
	ss.tcp = false
	ss.streams[stream] = streamSetup{setup: true, ports: ports}
	srv := c.srv.udp.serverPorts()
	return &headers.Transport{Profile: "RTP/AVP", ClientPort: &ports, ServerPort: &srv, Mode: headers.ModeRecord}, true
}

// releaseStream frees the channels or UDP ports of one stream.
func (c *conn) releaseStream(ss *session, stream int) {
	st := ss.streams[stream]
	if st.setup && ss.tcp {
		c.channels[st.channels.RTP] = channelTarget{}
		c.channels[st.channels.RTCP] = channelTarget{}
	}
	if st.setup && !ss.tcp {
		c.srv.udp.unregisterStream(ss, stream)
	}
	ss.streams[stream] = streamSetup{}
	if ss.pres.play != nil {
		ss.setSend(stream, sendTarget{})
	}
}

// releaseChannels frees every interleaved channel of ss.
func (c *conn) releaseChannels(ss *session) {
	for ch := range c.channels {
		if c.channels[ch].ss == ss {
			c.channels[ch] = channelTarget{}
		}
	}
}
