package live

import (
	"bytes"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
)

// hub is one live camera, from its recording's Open to its Close: the
// tracks, the cached group of pictures and the viewers.
type hub struct {
	r        *Relay
	camera   string
	tracks   []*media.Track // the source's, by its track index
	sdp      []byte
	controls []string
	toTrack  []int // viewer stream -> source track
	toStream []int // source track -> viewer stream, -1 if not relayed
	key      int   // the source track of the first video track, -1 if none
	log      *slog.Logger

	// mu guards the fields below and every viewer's membership.
	mu       sync.Mutex
	closed   bool
	gop      []*packet // key track packets from the access unit of the latest keyframe
	gopBytes int
	gopOK    bool      // gop starts with a keyframe's access unit
	gopAt    time.Time // when the keyframe that starts gop arrived
	au       accessUnit
	last     []trackState // by source track
	viewers  []*viewer
}

// accessUnit follows the key track's current access unit.
type accessUnit struct {
	seen   bool
	ts     uint32
	marker bool // the last packet ended an access unit
	start  int  // index in gop of the unit's first packet
	key    bool // the unit holds a keyframe
}

// trackState is what the hub last saw of one source track.
type trackState struct {
	seen bool
	seq  uint16
	ts   uint32
	ssrc uint32
	at   time.Time // arrival of the last RTP packet
	sr   *packet   // the latest sender report, held by the hub
}

func newHub(r *Relay, camera string, source []*media.Track) *hub {
	// The source's tracks are shared with the recorder, whose depacketizers
	// update their parameter sets as packets come: the hub keeps its own.
	tracks := make([]*media.Track, len(source))
	for i, t := range source {
		c := *t
		c.VPS, c.SPS, c.PPS, c.AudioConfig = bytes.Clone(t.VPS), bytes.Clone(t.SPS), bytes.Clone(t.PPS), bytes.Clone(t.AudioConfig)
		tracks[i] = &c
	}
	h := &hub{r: r, camera: camera, tracks: tracks, key: -1, last: make([]trackState, len(tracks)),
		toStream: make([]int, len(tracks)), log: r.log.With("camera", camera)}
	var relayed []*media.Track
	for i, t := range tracks {
		h.toStream[i] = -1
		if t.Codec == media.CodecUnknown {
			continue
		}
		if h.key < 0 && t.IsVideo() {
			h.key = i
		}
		c := *t
		c.Control = "trackID=" + strconv.Itoa(len(relayed))
		h.toStream[i] = len(relayed)
		h.toTrack = append(h.toTrack, i)
		h.controls = append(h.controls, c.Control)
		relayed = append(relayed, &c)
	}
	h.sdp = media.MarshalSDP(relayed, media.SDPOptions{SessionName: camera})
	return h
}

// rtp takes one RTP packet of source track i. It never blocks.
func (h *hub) rtp(i int, b []byte) {
	if i < 0 || i >= len(h.tracks) || h.toStream[i] < 0 {
		return
	}
	hdr, ok := parseRTP(b)
	if !ok {
		return // the recorder counts it
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	p := newPacket(b, i, false)
	p.seq, p.ts = hdr.seq, hdr.ts
	st := &h.last[i]
	st.seen, st.seq, st.ts, st.ssrc, st.at = true, hdr.seq, hdr.ts, hdr.ssrc, now
	keyframe := i == h.key && h.keyPacket(p, hdr) && h.gopOK // the group now ends with p
	end := i == h.key && hdr.marker                          // p ends a video frame
	if keyframe {
		h.gopAt = now
	}
	for _, v := range h.viewers {
		if keyframe && v.resume(h.gop) {
			continue // the group it resumed with ends with p
		}
		v.offer(p, end, now)
	}
	p.release()
}

// keyPacket follows the key track's access units and keeps the group of
// pictures; it reports whether p made its access unit a keyframe's, which
// then starts the group.
func (h *hub) keyPacket(p *packet, hdr rtpHeader) (keyframe bool) {
	a := &h.au
	codec := h.tracks[h.key].Codec
	p.prefix = media.PrefixPayload(codec, hdr.payload)
	if !a.seen || hdr.ts != a.ts || a.marker {
		a.seen, a.ts, a.key = true, hdr.ts, false
		if !h.gopOK && !h.onlyPrefix() {
			h.dropGOP() // keep only what may turn out to be a keyframe's unit
		}
		a.start = len(h.gop)
	}
	a.marker = hdr.marker
	if !a.key && media.KeyPayload(codec, hdr.payload) {
		a.key, keyframe = true, true
		// Parameter sets sent as units of their own (with a marker bit or
		// a timestamp of their own) belong to the keyframe.
		start := a.start
		for start > 0 && h.gop[start-1].prefix {
			start--
		}
		h.cutGOP(start)
		a.start = 0
	}
	if h.gopBytes+p.size() > h.r.cfg.GOPCacheBytes {
		h.dropGOP() // too long to cache: viewers joining now wait for the next keyframe
		a.start = 0
		return keyframe
	}
	p.ref()
	h.gop = append(h.gop, p)
	h.gopBytes += p.size()
	return keyframe
}

// onlyPrefix reports whether the cache holds nothing but parameter sets.
func (h *hub) onlyPrefix() bool {
	for _, p := range h.gop {
		if !p.prefix {
			return false
		}
	}
	return true
}

// cutGOP drops the cached packets before index start; the rest is a new
// group of pictures.
func (h *hub) cutGOP(start int) {
	for _, p := range h.gop[:start] {
		h.gopBytes -= p.size()
		p.release()
	}
	n := copy(h.gop, h.gop[start:])
	clear(h.gop[n:])
	h.gop, h.gopOK = h.gop[:n], true
}

func (h *hub) dropGOP() {
	for _, p := range h.gop {
		p.release()
	}
	clear(h.gop)
	h.gop, h.gopBytes, h.gopOK = h.gop[:0], 0, false
}

// rtcp takes one RTCP packet of source track i: relayed to the viewers,
// and kept when it is a sender report, for viewers joining later.
func (h *hub) rtcp(i int, b []byte) {
	if i < 0 || i >= len(h.tracks) || h.toStream[i] < 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	p := newPacket(b, i, true)
	if _, ok := rtcpSenderReport(b); ok {
		st := &h.last[i]
		if st.sr != nil {
			st.sr.release()
		}
		p.ref()
		st.sr = p
	}
	for _, v := range h.viewers {
		v.offer(p, true, time.Time{})
	}
	p.release()
}

// join adds a viewer and fills its queue with what it starts with: the
// sender reports, then the cached group of pictures with its frames
// retimed (see the package comment). It returns the RTP-Info of each of
// the viewer's set-up streams, in the order of streams, or false if the
// camera is gone.
func (h *hub) join(v *viewer, streams []int) ([]rtsp.StreamStart, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range streams {
		if sr := h.last[h.toTrack[s]].sr; sr != nil {
			v.pushLocked(entry{p: sr})
		}
	}
	edge := time.Now()
	var keyStart rtsp.StreamStart
	if h.key >= 0 && v.setUp[h.key] {
		keyStart = rtsp.StreamStart{Unknown: true}
		if h.gopOK && len(h.gop) > 0 {
			var retimed bool
			keyStart, retimed = h.burst(v)
			edge = h.gopAt // the keyframe is where the viewer starts
			if retimed {
				edge = h.last[h.key].at // the newest frame is
			}
		} else {
			v.skipping = true // until the first keyframe; not behind, so no skipSince
		}
	}
	starts := make([]rtsp.StreamStart, len(streams))
	for j, s := range streams {
		k := h.toTrack[s]
		st := h.last[k]
		switch {
		case k == h.key:
			starts[j] = keyStart
		case !st.seen:
			starts[j] = rtsp.StreamStart{Unknown: true}
		default:
			// The RTP time of the live edge, from the track's last packet
			// and the time since it arrived.
			ticks := edge.Sub(st.at).Seconds() * float64(h.tracks[k].ClockRate)
			starts[j] = rtsp.StreamStart{Seq: st.seq + 1, RTPTime: st.ts + uint32(int64(ticks))}
		}
	}
	h.viewers = append(h.viewers, v)
	v.woken = time.Now()
	v.signal()
	return starts, true
}

// burst queues the cached group of pictures for v, each frame's packets
// retimed to one tick apart ending at the newest frame's timestamp, and
// returns the key stream's RTP-Info.
func (h *hub) burst(v *viewer) (start rtsp.StreamStart, retimed bool) {
	units, ordered := 1, true
	for i := 1; i < len(h.gop); i++ {
		if d := int32(h.gop[i].ts - h.gop[i-1].ts); d != 0 {
			units++
			ordered = ordered && d > 0
		}
	}
	newest := h.gop[len(h.gop)-1].ts
	ts := newest - uint32(units-1)
	// Frames in decode order whose timestamps go back (B-frames, or packets
	// reordered on UDP) keep them: retimed in decode order they would be
	// presented out of order.
	if h.r.cfg.OriginalTimestamps || !ordered {
		for _, p := range h.gop {
			v.pushLocked(entry{p: p, ts: p.ts})
		}
		return rtsp.StreamStart{Seq: h.gop[0].seq, RTPTime: h.gop[0].ts}, false
	}
	first := rtsp.StreamStart{Seq: h.gop[0].seq, RTPTime: ts}
	for i, p := range h.gop {
		if i > 0 && p.ts != h.gop[i-1].ts {
			ts++
		}
		v.pushLocked(entry{p: p, ts: ts, retimed: ts != p.ts})
	}
	return first, true
}

// leave removes a viewer.
func (h *hub) leave(v *viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, w := range h.viewers {
		if w == v {
			last := len(h.viewers) - 1
			h.viewers[i], h.viewers[last] = h.viewers[last], nil
			h.viewers = h.viewers[:last]
			return
		}
	}
}

// close ends the hub: each viewer sends what it has queued and a BYE,
// then its session ends.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	h.dropGOP()
	for i := range h.last {
		if sr := h.last[i].sr; sr != nil {
			sr.release()
			h.last[i].sr = nil
		}
	}
	for _, v := range h.viewers {
		v.sourceGone(h.byes())
	}
	h.viewers = nil
}

// byes returns an RTCP BYE for every source track that sent RTP, by
// source track (nil for the others).
func (h *hub) byes() [][]byte {
	b := make([][]byte, len(h.tracks))
	for i, st := range h.last {
		if st.seen {
			b[i] = appendBye(nil, st.ssrc)
		}
	}
	return b
}

// ssrc returns the SSRC of source track k, if it has sent RTP.
func (h *hub) ssrc(k int) (uint32, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[k].ssrc, h.last[k].seen
}

func (h *hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}
