package recorder

import (
	"encoding/binary"
	"log/slog"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// WriteRTCP takes one RTCP compound packet of track i. Sender reports
// (RTCP-06/07/08) refine the track's wall-clock anchor until the first
// fragment is written, when they agree with the server clock within
// ClockTolerance; later ones are only compared.
func (rec *Recording) WriteRTCP(i int, b []byte) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed || i < 0 || i >= len(rec.tracks) || rec.tracks[i] == nil {
		return
	}
	t := rec.tracks[i]
	for len(b) >= 4 {
		n := (int(binary.BigEndian.Uint16(b[2:4])) + 1) * 4
		if b[0]>>6 != 2 || n > len(b) {
			return // RTCP-01: stop at the first inconsistency
		}
		if b[1] == 200 && n >= 28 {
			rec.onSenderReport(t, binary.BigEndian.Uint32(b[4:8]), binary.BigEndian.Uint64(b[8:16]),
				binary.BigEndian.Uint32(b[16:20]))
		}
		b = b[n:]
	}
}

func (rec *Recording) onSenderReport(t *track, ssrc uint32, ntp uint64, rtpTS uint32) {
	if !t.haveAnchor || !t.started || ssrc != t.ssrc || ntp == 0 {
		return
	}
	ext := t.extPTS + int64(int32(rtpTS-t.lastPTS))
	srWall := fmp4.NTPToTime(ntp).UnixNano()
	diff := t.wallOf(ext) - srWall
	if rec.frozen {
		return
	}
	if absDur(diff) > int64(rec.r.cfg.ClockTolerance) {
		rec.warn(warnSenderReport, "sender report clock disagrees with server clock; using arrival time",
			slog.Int("track", t.idx), slog.Duration("drift", time.Duration(diff)))
		return
	}
	t.anchorTS, t.anchorWall = ext, srWall
}
