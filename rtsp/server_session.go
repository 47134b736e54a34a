package rtsp

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camvault/camvault/rtsp/headers"
)

// session is one RTSP session: a publication (record) or a presentation
// (play) and its set-up streams.
//
// Ownership: the immutable fields are set before the session is shared.
// streams and tcp belong to the owner connection's reader goroutine, the
// only one that handles requests for this session (RTSP-SES-07). The
// packet and byte counters are atomic because the packet path must not
// lock for writing; the reaper compares them between ticks, Sessions reads
// them. active and playAt are atomic for the same reason (see each).
// Everything else is guarded by mu.
type session struct {
	id        string // the Session header value: a bearer secret, never shown
	serial    uint64 // the session's number in logs and SessionInfo.ID
	srv       *Server
	owner     *conn
	pub       Publication
	pres      *announcement
	log       *slog.Logger
	user      string    // who the session is for (SessionInfo.User)
	started   time.Time // SETUP that created it
	transport string    // "tcp" or "udp"; set by commitSession

	streams  []streamSetup // owner reader only
	tcp      bool          // owner reader only; lower transport of the set-up streams
	recorded bool          // owner reader only; Publication.Record was called
	setups   uint64        // owner reader only; SETUPs so far, orders the streams
	tornDown bool          // owner reader only; TEARDOWN answered, closing after UDPTeardownLinger

	out  *output       // play sessions only
	done chan struct{} // closed when the session ends

	rtpCount  atomic.Uint64
	rtcpCount atomic.Uint64
	bytesIn   atomic.Uint64 // RTP and RTCP bytes received (deliver)
	bytesOut  atomic.Uint64 // RTP and RTCP bytes sent (output)
	// active mirrors state in {playing, recording} for Sessions, which
	// must not wait on mu behind a TCP publication blocked in RTP.
	// Written under mu.
	active atomic.Bool
	// playAt is when the PLAY being answered was read, until the first RTP
	// packet of its answer is sent (Config.OnPlayStart); nil otherwise.
	playAt atomic.Pointer[time.Time]

	// mu guards the fields below. Packet delivery holds it shared for the
	// duration of the Publication call, so close (exclusive) waits for
	// in-flight RTP/RTCP and none starts after it.
	mu          sync.RWMutex
	state       sessionState
	closed      bool
	endedBy     error     // why it closed, once closed
	lastRefresh time.Time // last request or RTCP
	lastMedia   time.Time // last RTP or RTCP, for the media watchdog
	seenRTP     uint64    // counter values at the last reaper tick
	seenRTCP    uint64
	sends       []sendTarget // play sessions: where Output sends each stream
	redirectAt  time.Time    // when a REDIRECT was queued (Redirector), zero before
}

// streamSetup is the transport of one set-up stream.
type streamSetup struct {
	setup    bool
	url      string           // Request-URI of its SETUP (for RTP-Info, RTSP-RNG-10)
	seq      uint64           // SETUP order (RTP-Info, PlayRequest.Streams)
	channels headers.PortPair // TCP interleaved channels
	ports    headers.PortPair // UDP client ports
}

func newSession(c *conn, pres *announcement) *session {
	ss := &session{
		id:      newSessionID(),
		serial:  c.srv.nextSerial(),
		srv:     c.srv,
		owner:   c,
		pub:     pres.pub,
		pres:    pres,
		streams: make([]streamSetup, len(pres.controls)),
		state:   stateAnnounced,
		done:    make(chan struct{}),
		user:    cmp.Or(pres.user, c.user),
		started: time.Now(),
	}
	if pres.play != nil {
		ss.state = stateInit
		ss.sends = make([]sendTarget, len(pres.controls))
		ss.out = &output{ss: ss}
	}
	ss.log = c.log.With("session", ss.serial, "path", pres.path)
	ss.lastRefresh = ss.started
	return ss
}

// getState returns the current state.
func (ss *session) getState() sessionState {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	return ss.state
}

// isClosed reports whether the session has ended.
func (ss *session) isClosed() bool {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	return ss.closed
}

// endedItself reports whether the session is closed for another reason
// than its client's TEARDOWN: its presentation ended (a live camera
// stopped), it was redirected or kicked.
func (ss *session) endedItself() bool {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	return ss.closed && !errors.Is(ss.endedBy, ErrTeardown)
}

// setState moves to st unless the session ended meanwhile.
func (ss *session) setState(st sessionState, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if st == stateRecording && ss.state != stateRecording {
		ss.lastMedia = now
	}
	ss.state = st
	ss.active.Store(st == statePlaying || st == stateRecording)
}

// touch records liveness from a request (RTSP-SES-05).
func (ss *session) touch(now time.Time) {
	ss.mu.Lock()
	ss.lastRefresh = now
	ss.mu.Unlock()
}

// allSetup reports whether every announced stream is set up (RTSP-M-30).
func (ss *session) allSetup() bool {
	for _, st := range ss.streams {
		if !st.setup {
			return false
		}
	}
	return true
}

func (ss *session) hasStreams() bool {
	for _, st := range ss.streams {
		if st.setup {
			return true
		}
	}
	return false
}

// panicInfo is a recovered panic with its stack.
type panicInfo struct {
	val   any
	stack []byte
}

// deliver hands one packet to the publication if the session is recording.
// It never allocates unless the publication panics.
func (ss *session) deliver(stream int, rtcp bool, data []byte) (p *panicInfo) {
	if rtcp {
		ss.rtcpCount.Add(1)
	} else {
		ss.rtpCount.Add(1)
	}
	ss.bytesIn.Add(uint64(len(data)))
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	if ss.state != stateRecording {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			p = &panicInfo{val: r, stack: debug.Stack()}
		}
	}()
	if rtcp {
		ss.pub.RTCP(stream, data)
	} else {
		ss.pub.RTP(stream, data)
	}
	return nil
}

// packetPanicked ends a session whose publication panicked on a packet.
func (ss *session) packetPanicked(p *panicInfo) {
	ss.log.Error("rtsp publication panic", "err", p.val, "stack", string(p.stack))
	ss.expire(ErrPanic)
}

// expired reports why the session must end at now, or nil (RTSP-SES-04/06,
// RTSP-M-33): a recording session without RTP for MediaTimeout (RTCP
// alone does not keep a recording alive: a publisher that sends only
// receiver reports records nothing), a publication that ended itself, and
// any other session without a request or RTCP for SessionTimeout+
// SessionGrace. A playing viewer over TCP is no exception: players send
// keepalive requests or receiver reports, and a silent one would hold a
// playback slot for ever.
func (ss *session) expired(now time.Time) error {
	rtp, rtcp := ss.rtpCount.Load(), ss.rtcpCount.Load()
	var why error // outside ss.mu: Ended takes the publication's or presentation's locks
	if ss.pub != nil {
		why = ended(ss.pub)
	} else if ss.pres.play != nil {
		why = ended(ss.pres.play)
	}
	cfg := &ss.srv.cfg
	// A publication taking a packet holds ss.mu shared, and a TCP one may
	// block there to hold its publisher back (RecordInfo.TCP): the session
	// is alive, and waiting for it would stall the reaper of every session.
	if !ss.mu.TryLock() {
		return nil
	}
	defer ss.mu.Unlock()
	if ss.closed {
		return nil
	}
	if ss.redirectExpired(now) {
		return ErrRedirected
	}
	if rtcp != ss.seenRTCP {
		ss.lastRefresh = now
	}
	if rtp != ss.seenRTP {
		ss.lastMedia = now
	}
	ss.seenRTP, ss.seenRTCP = rtp, rtcp
	if why != nil && ss.state == stateRecording {
		return why
	}
	if why != nil && ss.state == statePlaying {
		if errors.Is(why, ErrSlowClient) {
			return why // the connection is backed up: it goes with the session
		}
		return presentationEnded{why}
	}
	if ss.state == stateRecording {
		if now.Sub(ss.lastMedia) > cfg.MediaTimeout {
			return ErrMediaTimeout
		}
		return nil
	}
	if now.Sub(ss.lastRefresh) > cfg.SessionTimeout+cfg.SessionGrace {
		return ErrSessionTimeout
	}
	return nil
}

// presentationEnded is why a playing session ends when its presentation
// ended itself for a reason that concerns it alone (a live camera
// stopped): the session ends, its connection (which may carry others, and
// has the session's last packets, the BYEs, still to write) stays.
type presentationEnded struct{ err error }

func (e presentationEnded) Error() string { return e.err.Error() }
func (e presentationEnded) Unwrap() error { return e.err }

// expire ends the session from outside its owner's reader (reaper, UDP
// reader) and closes the owner connection, which is of no use without it,
// unless the presentation ended itself (presentationEnded) or a redirected
// session leaves others on it (ErrRedirected).
func (ss *session) expire(reason error) {
	if e, ok := reason.(presentationEnded); ok {
		ss.close(e.err)
		return
	}
	if errors.Is(reason, ErrRedirected) {
		if ss.close(reason) && !ss.srv.carriesSession(ss.owner) {
			ss.owner.cancel()
		}
		return
	}
	if ss.close(reason) {
		ss.owner.cancel()
	}
}

// close ends the session once: no packet is delivered after the state
// change, then the publication is closed. It reports whether this call
// closed it.
func (ss *session) close(reason error) bool {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return false
	}
	ss.closed = true
	ss.endedBy = reason
	ss.state = stateInit
	ss.active.Store(false)
	close(ss.done)
	ss.mu.Unlock()
	ss.srv.removeSession(ss)
	if ss.pres.play != nil {
		closePresentation(ss.pres.play, reason, ss.log)
	} else {
		closePublication(ss.pub, reason, ss.log)
	}
	lvl := slog.LevelInfo
	if errors.Is(reason, ErrPanic) || errors.Is(reason, ErrSlowClient) {
		lvl = slog.LevelWarn
	}
	ss.log.Log(context.Background(), lvl, "rtsp session stop", "err", reason)
	return true
}

// closePublication calls pub.Close, recovering a panic.
func closePublication(pub Publication, reason error, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("rtsp publication close panic", "err", r, "stack", string(debug.Stack()))
		}
	}()
	pub.Close(reason)
}

// closePresentation calls pres.Close, recovering a panic.
func closePresentation(pres Presentation, reason error, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("rtsp presentation close panic", "err", r, "stack", string(debug.Stack()))
		}
	}()
	pres.Close(reason)
}
