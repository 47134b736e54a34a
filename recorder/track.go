package recorder

import (
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
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

	// RTP checks (track_source.go).
	started  bool
	ssrc     uint32 // fixed by the first packet; others are dropped once recorded is set
	recorded bool   // a unit of ssrc was recorded: the source is fixed
	seqInit  bool
	maxSeq   uint16
	badSeq   uint16 // the sequence number that would continue a far jump
	badRun   int    // consecutive packets of a far jump so far
	needKey  bool   // a loss happened: drop units until the next keyframe
	// A candidate new source: consecutive packets of another SSRC with
	// none of the fixed one in between (RFC 3550 6.2.1 probation).
	candSSRC  uint32
	candSeq   uint16 // the sequence number that would continue the run
	candRun   int
	candStart int64 // Unix ns of the run's first packet

	// Media time received within the race window (reanchorAhead), ns.
	raceMedia int64
	raceLast  int64 // unwrapped RTP time of the previous unit
	raceHave  bool

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

	// The open fragment (fragment_data.go). data holds its units' bytes;
	// dataHint is how many the last fragment had.
	pend     []pending
	data     *[]byte
	dataHint int
	sorted   []int64
	samples  []fmp4.Sample

	warnedNotReady bool
	stats          TrackStats
}

// TrackStats counts what happened to one track's packets.
type TrackStats struct {
	Packets      uint64 // RTP packets received
	Bytes        uint64 // payload bytes of the packets that parsed as RTP
	Lost         uint64 // sequence numbers never received
	Dropped      uint64 // packets dropped: malformed, wrong payload type, late, far out of sequence, depacketizer error
	Late         uint64 // of Dropped, those late, duplicate or far out of sequence
	ForeignSSRC  uint64 // packets dropped because they came from another SSRC than the track's
	Units        uint64 // units written to fragments
	UnitsSkipped uint64 // units dropped while waiting for a keyframe
}

func (t *track) wallOf(ext int64) int64 {
	return t.anchorWall + ticksToNS(ext-t.anchorTS, t.clock)
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

// countMedia adds the media time from the previous unit to ext to
// raceMedia; after a jump, nothing (the jump is counted as such). A
// timeline reset may restart the unwrapped time lower: that step is not
// counted either.
func (t *track) countMedia(ext int64, jump bool) {
	if t.raceHave && !jump && ext > t.raceLast {
		t.raceMedia += ticksToNS(ext-t.raceLast, t.clock)
	}
	t.raceLast, t.raceHave = ext, !jump
}
