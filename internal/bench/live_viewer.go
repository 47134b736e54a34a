package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// liveViewer is one viewer of a live camera over TCP interleaved: the
// player's DESCRIBE and SETUP of every stream, then PLAY. It checks how it
// started and counts what it gets: the first video packet after PLAY must
// start a keyframe's access unit (startsKeyframe) and, when RTP-Info gives
// a sequence number, carry it (so must every stream's first packet); after
// its first packet every stream's sequence numbers must be contiguous.
// Stream 0 is the video, as in the bench clip. One goroutine uses it.
type liveViewer struct {
	p        *player
	startSeq []*uint16 // per stream, RTP-Info's seq; nil when not given
	last     []int     // per stream, the last sequence number; -1 before the first
	began    time.Time // DESCRIBE sent
	played   time.Time // PLAY sent
	gotKey   bool
	stats    liveStats
}

// liveStats is what one viewer saw.
type liveStats struct {
	// setup is from sending DESCRIBE to sending PLAY: DESCRIBE and SETUP
	// of every stream answered.
	setup time.Duration
	// firstKey is from sending PLAY to reading the first packet that
	// starts a keyframe; valid if keyed.
	firstKey time.Duration
	keyed    bool
	badStart string // why the start was wrong, "" if it was right
	frames   int    // video access units (marker bits)
	gaps     int    // sequence discontinuities after each stream's first packet
}

func newLiveViewer(addr, camera string) *liveViewer {
	return &liveViewer{p: newPlayer(addr, camera)}
}

// start runs DESCRIBE, SETUP of every stream and PLAY, and reads
// RTP-Info.
func (v *liveViewer) start(ctx context.Context) error {
	v.began = time.Now()
	if err := v.p.open(ctx, true); err != nil {
		return err
	}
	v.played = time.Now()
	v.stats.setup = v.played.Sub(v.began)
	resp, err := v.p.rc.do(base.MethodPlay, v.p.control, nil, nil)
	if err != nil {
		return err
	}
	v.startSeq, v.last = make([]*uint16, v.p.streams), make([]int, v.p.streams)
	for i := range v.last {
		v.last[i] = -1
	}
	if h := resp.Header.Get("RTP-Info"); h != "" {
		var ri headers.RTPInfo
		if err := ri.Unmarshal(h); err != nil {
			return fmt.Errorf("PLAY: RTP-Info %q: %w", h, err)
		}
		for i, e := range ri { // in SETUP order (RTSP-RNG-10)
			if i < len(v.startSeq) {
				v.startSeq[i] = e.Seq
			}
		}
	}
	v.p.buf = make([]byte, maxFrame)
	return nil
}

// read reads media until deadline, which ends it without an error; with
// untilKey it returns as soon as a packet starts a keyframe.
func (v *liveViewer) read(deadline time.Time, untilKey bool) error {
	_ = v.p.rc.nc.SetReadDeadline(deadline)
	for {
		f, err := v.p.readFrame()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline) {
				return nil
			}
			return err
		}
		if v.packet(f.Channel, f.Payload, time.Now()) && untilKey {
			return nil
		}
	}
}

// packet checks and counts one interleaved frame read at; it reports
// whether the frame is the first to start a keyframe.
func (v *liveViewer) packet(ch uint8, pkt []byte, at time.Time) (firstKey bool) {
	s := int(ch / 2)
	if ch%2 == 1 || len(pkt) < 12 || s >= len(v.last) {
		return false // RTCP, or no stream of ours
	}
	seq := int(binary.BigEndian.Uint16(pkt[2:4]))
	last := v.last[s]
	v.last[s] = seq
	switch want := v.startSeq[s]; {
	case last >= 0 && seq != (last+1)&0xffff:
		v.stats.gaps++
	case last < 0 && want != nil && uint16(seq) != *want:
		v.fail(fmt.Sprintf("stream %d started at seq %d, RTP-Info said %d", s, seq, *want))
	}
	if s != 0 {
		return false
	}
	if pkt[1]&0x80 != 0 {
		v.stats.frames++
	}
	if v.gotKey {
		return false
	}
	if !startsKeyframe(rtpPayload(pkt)) {
		if last < 0 {
			v.fail("the first video packet does not start a keyframe")
		}
		return false
	}
	v.gotKey, v.stats.keyed, v.stats.firstKey = true, true, at.Sub(v.played)
	return true
}

// fail notes the first thing wrong with the start.
func (v *liveViewer) fail(why string) {
	if v.stats.badStart == "" {
		v.stats.badStart = why
	}
}

// close sends TEARDOWN and closes the connection.
func (v *liveViewer) close() { v.p.close() }

// rtpPayload returns the payload of an RTP packet [3550 §5.1] (CSRCs and
// header extension skipped, padding kept), or nil if it is malformed.
func rtpPayload(pkt []byte) []byte {
	off := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < off+4 {
			return nil
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	}
	if off > len(pkt) {
		return nil
	}
	return pkt[off:]
}

// H.264 NAL unit types [RFC 6184 §5.2].
const (
	nalIDR   = 5
	nalSPS   = 7
	nalSTAPA = 24
	nalFUA   = 28
)

// startsKeyframe reports whether an H.264 RTP payload starts a keyframe's
// access unit: an SPS or IDR NAL unit, a STAP-A whose first NAL unit is
// one [RFC 6184 §5.7.1], or the first fragment of an IDR [§5.8].
func startsKeyframe(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch p[0] & 0x1f {
	case nalIDR, nalSPS:
		return true
	case nalSTAPA:
		return len(p) >= 4 && (p[3]&0x1f == nalIDR || p[3]&0x1f == nalSPS)
	case nalFUA:
		return len(p) >= 2 && p[1]&0x80 != 0 && p[1]&0x1f == nalIDR
	}
	return false
}
