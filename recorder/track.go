package recorder

import (
	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
)

// maxTimestampJump is the largest PTS step between consecutive units that
// is still one timeline (RTP-08, PL-GEN-03), in seconds of media time.
const maxTimestampJump = 10

// pending is one unit waiting in the open fragment.
type pending struct {
	pts  int64 // unwrapped RTP timestamp
	off  int   // offset of its bytes in track.data
	size int
	dur  uint32 // duration from the payload (audio), 0 if unknown
	key  bool
}

// track is the recording state of one media.
type track struct {
	idx   int
	media *media.Track
	dep   media.Depacketizer
	clock int64
	video bool

	// RTP checks.
	started bool
	ssrc    uint32
	seqInit bool
	maxSeq  uint16
	needKey bool // a loss happened: drop units until the next keyframe

	// Timestamp unwrapping.
	havePTS bool
	lastPTS uint32
	extPTS  int64

	// Wall clock of media time: wall(ext) = anchorWall + (ext-anchorTS)/clock.
	haveAnchor bool
	anchorTS   int64
	anchorWall int64 // Unix ns

	// Per segment.
	mp4ID      uint32 // MP4 track ID in the current segment, 0 if not in it
	segBase    int64  // unwrapped RTP time at the segment origin
	reorderOff int64  // decode delay of B-frames, ticks
	haveDTS    bool
	lastDTS    int64 // last decode time written, ticks from segBase
	lastDur    uint32

	// The open fragment.
	pend    []pending
	data    []byte
	sorted  []int64
	samples []storage.Sample

	warnedNotReady bool
	stats          TrackStats
}

// TrackStats counts what happened to one track's packets.
type TrackStats struct {
	Packets      uint64 // RTP packets received
	Lost         uint64 // sequence numbers never received
	Dropped      uint64 // packets dropped: malformed, wrong payload type, late, depacketizer error
	Units        uint64 // units written to fragments
	UnitsSkipped uint64 // units dropped while waiting for a keyframe
}

func (t *track) wallOf(ext int64) int64 {
	return t.anchorWall + ticksToNS(ext-t.anchorTS, t.clock)
}

// checkSeq applies RTP-05 in a reduced form: TCP and loopback UDP rarely
// reorder, so a late or duplicate packet is dropped and a forward gap counts
// as loss. It reports whether the packet should be used.
func (t *track) checkSeq(p *rtp.Packet) bool {
	if !t.seqInit {
		t.seqInit, t.maxSeq = true, p.SequenceNumber
		return true
	}
	delta := p.SequenceNumber - t.maxSeq
	switch {
	case delta == 0 || delta > 0x8000:
		return false
	case delta > 1:
		t.stats.Lost += uint64(delta - 1)
		t.dep.Reset()
		if t.video {
			t.needKey = true
		}
	}
	t.maxSeq = p.SequenceNumber
	return true
}

// unwrap extends a 32-bit PTS; jump reports a step too large to be one
// timeline (the caller breaks it and the track restarts from ext).
func (t *track) unwrap(pts uint32) (ext int64, jump bool) {
	if !t.havePTS {
		t.havePTS, t.lastPTS, t.extPTS = true, pts, 1<<33+int64(pts)
		return t.extPTS, false
	}
	d := int64(int32(pts - t.lastPTS))
	t.lastPTS = pts
	t.extPTS += d
	return t.extPTS, absDur(d) > maxTimestampJump*t.clock
}

// resetTimeline forgets the wall-clock anchor and timestamp history.
func (t *track) resetTimeline() {
	t.havePTS, t.haveAnchor, t.haveDTS = false, false, false
}

func (t *track) clearFragment() {
	t.pend = t.pend[:0]
	t.data = t.data[:0]
}
