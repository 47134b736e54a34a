package recorder

import (
	"log/slog"
	"time"

	"github.com/pion/rtp"
)

// Sequence and source checks after RFC 3550 appendix A.1 and section 6.2.1.
const (
	// seqMaxDropout is the largest forward step of sequence numbers taken
	// as loss (MAX_DROPOUT); a larger one is a far jump.
	seqMaxDropout = 3000
	// seqMaxMisorder is how far back a sequence number counts as late or
	// duplicate rather than as a far jump (MAX_MISORDER).
	seqMaxMisorder = 100
	// seqProbation is how many consecutive packets must continue a far jump
	// before the track resyncs to it (the RFC uses 2; a forged packet or
	// two must not move the window).
	seqProbation = 4
	// ssrcProbation is how many consecutive packets of a new SSRC, with none
	// of the track's own in between, a source restart takes.
	ssrcProbation = 16
	// ssrcSilence is how long such a run must last: the track's own source
	// must have been silent that long before another replaces it.
	ssrcSilence = time.Second
)

// checkSeq applies RTP-05 (RFC 3550 A.1): a step of up to seqMaxDropout is
// in order, its gap counted as loss; a late or duplicate packet is dropped;
// a packet far out of the window is dropped unless seqProbation consecutive
// packets agree on the new numbering, which the track then resyncs to. It
// reports whether the packet should be used; rec.mu must be held.
func (rec *Recording) checkSeq(t *track, seq uint16) bool {
	if !t.seqInit {
		t.seqInit, t.maxSeq, t.badRun = true, seq, 0
		return true
	}
	delta := seq - t.maxSeq
	switch {
	case delta == 0 || delta > 0xffff-seqMaxMisorder:
		return false
	case delta < seqMaxDropout:
		if delta > 1 {
			t.lose(uint64(delta - 1))
		}
		t.maxSeq, t.badRun = seq, 0
		return true
	}
	if t.badRun == 0 || seq != t.badSeq {
		t.badRun = 0
	}
	t.badRun++
	t.badSeq = seq + 1
	if t.badRun < seqProbation {
		return false
	}
	rec.warn(warnSeqResync, "sequence number jumped; resynced", slog.Int("track", t.idx))
	t.maxSeq, t.badRun = seq, 0
	t.lose(0)
	return true
}

// lose counts n lost packets and restarts depacketizing (at a keyframe, for
// video).
func (t *track) lose(n uint64) {
	t.stats.Lost += n
	t.dep.Reset()
	if t.video {
		t.needKey = true
	}
}

// checkSSRC handles a packet whose SSRC is not the track's. It is dropped
// and counted, unless it completes a run that shows the source restarted
// with a new SSRC: ssrcProbation consecutive packets over at least
// ssrcSilence with none of the track's own SSRC. Then the track takes the
// new SSRC, its timeline breaks, and checkSSRC reports true.
func (rec *Recording) checkSSRC(t *track, p *rtp.Packet) bool {
	now := unixNS(rec.r.cfg.Now())
	if t.candRun == 0 || p.SSRC != t.candSSRC || p.SequenceNumber != t.candSeq {
		t.candSSRC, t.candRun, t.candStart = p.SSRC, 0, now
	}
	t.candRun++
	t.candSeq = p.SequenceNumber + 1
	if t.candRun < ssrcProbation || now-t.candStart < int64(ssrcSilence) {
		t.stats.ForeignSSRC++
		rec.warn(warnForeignSSRC, "packets of another ssrc dropped", slog.Int("track", t.idx),
			slog.Uint64("packets", t.stats.ForeignSSRC))
		return false
	}
	// RTP-04: the source restarted; its timestamps start over.
	rec.warn(warnSSRCSwitch, "ssrc changed; starting a new timeline", slog.Int("track", t.idx))
	t.ssrc, t.seqInit, t.candRun = p.SSRC, false, 0
	t.dep.Reset()
	rec.breakTimeline()
	return true
}
