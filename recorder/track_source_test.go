package recorder_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/camvault/camvault/recorder"
)

// forgery sends hostile packets between an honest camera's frames.
type forgery func(h *harness, rec *recorder.Recording, video *sender, frame int)

// recordWithForgeries records 14 s of an honest 25 fps camera (SSRC 7),
// calling forge after each frame, and returns the stats, the number of
// frames in the archive and the log.
func recordWithForgeries(t *testing.T, forge forgery) (recorder.Stats, recorder.TrackStats, int, *logRecorder) {
	t.Helper()
	h, rec, logs := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	for i := range 350 {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
		forge(h, rec, video, i)
	}
	rec.Close()
	rec.Wait()
	st, ts := rec.Stats()
	infos, files := h.readSegments("cam")
	frames := frameCount(t, files)
	if len(infos) != 1 {
		t.Errorf("%d segments, want 1", len(infos))
	}
	return st, *ts[0], frames, logs
}

// TestForgedSequenceNumberIsDropped is issue 9 row 4, first forgery: one
// datagram from the publisher's address with its SSRC and seq+0x7f00. It is
// dropped; the window does not move, so the honest stream loses nothing.
func TestForgedSequenceNumberIsDropped(t *testing.T) {
	st, ts, frames, _ := recordWithForgeries(t, func(_ *harness, rec *recorder.Recording, video *sender, i int) {
		if i == 60 {
			forged := *video
			forged.seq += 0x7f00
			rec.WriteRTP(0, forged.packet(uint32(i*3600)+90000*3600, true, []byte{0x65, 1, 2, 3}))
		}
	})
	if st.TimelineBreaks != 0 || ts.Lost != 0 || ts.Dropped != 1 {
		t.Errorf("stats %+v, track %+v: want no break, no loss, 1 dropped", st, ts)
	}
	if frames != 350 {
		t.Errorf("%d frames recorded, want 350", frames)
	}
}

// TestForeignSSRCIsDropped is issue 9 row 4, second forgery: packets of
// other SSRCs, alone and as bursts of consecutive sequence numbers that
// could pass for a source restart, while the honest source keeps sending.
func TestForeignSSRCIsDropped(t *testing.T) {
	foreign := &sender{pt: 96, ssrc: 99, seq: 1000}
	sent := 0
	st, ts, frames, logs := recordWithForgeries(t, func(_ *harness, rec *recorder.Recording, _ *sender, i int) {
		n := 1
		if i%50 == 10 {
			n = 40 // a burst: 40 consecutive packets within a millisecond
		}
		for range n {
			rec.WriteRTP(0, foreign.packet(uint32(i*3600)+1<<30, true, []byte{0x65, 1, 2, 3}))
			sent++
		}
		// And one from a new SSRC every frame.
		other := &sender{pt: 96, ssrc: uint32(1000 + i)}
		rec.WriteRTP(0, other.packet(uint32(i), true, []byte{0x65, 1, 2, 3}))
		sent++
	})
	if st.TimelineBreaks != 0 || ts.Lost != 0 || ts.ForeignSSRC != uint64(sent) {
		t.Errorf("stats %+v, track %+v: want no break, no loss, %d foreign", st, ts, sent)
	}
	if frames != 350 {
		t.Errorf("%d frames recorded, want 350", frames)
	}
	if n := countMessages(logs, slog.LevelWarn, "packets of another ssrc dropped"); n != 1 {
		t.Errorf("%d warnings for foreign packets over 14 s, want 1", n)
	}
}

// A source that really restarts with a new SSRC (the old one silent, the
// new one sending consecutive packets for over a second) is followed, with
// one warning and a new timeline.
func TestSourceRestartSwitchesSSRC(t *testing.T) {
	h, rec, logs := openLogged(t, recorder.Config{})
	h.pushOn(rec, &sender{pt: 96, ssrc: 7}, 0, 75)
	h.pushOn(rec, &sender{pt: 96, ssrc: 8, seq: 5000, base: 1 << 31}, 0, 100)
	rec.Close()
	rec.Wait()
	st, ts := rec.Stats()
	if st.TimelineBreaks != 1 || st.Segments != 2 {
		t.Errorf("stats %+v: want 1 timeline break, 2 segments", st)
	}
	// The new source is recorded from its first keyframe after the second
	// of probation: frames 25..99.
	infos, files := h.readSegments("cam")
	if len(files) != 2 || len(samplesOf(t, files[1], 1)) != 75 {
		t.Errorf("segments %+v, want the second with 75 frames", infos)
	}
	if ts[0].ForeignSSRC == 0 {
		t.Errorf("track %+v: the probation's packets are not counted", ts[0])
	}
	if n := countMessages(logs, slog.LevelWarn, "ssrc changed; starting a new timeline"); n != 1 {
		t.Errorf("%d 'ssrc changed' lines, want 1", n)
	}
}

// A source that restarts its sequence numbers (same SSRC) is followed
// after seqProbation consecutive packets agree.
func TestSequenceRestartResyncs(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	h.pushOn(rec, video, 0, 50)
	video.seq += 20000
	h.pushOn(rec, video, 50, 100)
	rec.Close()
	rec.Wait()
	_, files := h.readSegments("cam")
	frames := frameCount(t, files)
	// Frames 50..53 are the probation; 54..74 wait for the keyframe at 75.
	if frames != 75 {
		t.Errorf("%d frames recorded, want 75", frames)
	}
}

// TestPerPacketWarningsAreRateLimited is issue 9 row 13: 50,000 18-byte
// RTP packets with alternating SSRCs over two minutes give a warning line
// a minute, not one per packet; the next line counts what was suppressed,
// and the recording's stop line counts every foreign packet.
func TestPerPacketWarningsAreRateLimited(t *testing.T) {
	h, rec, logs := openLogged(t, recorder.Config{})
	a, b := &sender{pt: 96, ssrc: 1}, &sender{pt: 96, ssrc: 2}
	h.pushOn(rec, a, 0, 1) // a keyframe of a is recorded: a is the track's source
	for i := range 50000 {
		h.clock.now = h.clock.now.Add(2400 * time.Microsecond)
		s := a
		if i%2 == 1 {
			s = b
		}
		rec.WriteRTP(0, s.packet(uint32(i), false, []byte{0x41, 1, 2, 3, 4, 5}))
	}
	rec.Close()
	if n := len(logs.messages(slog.LevelWarn)); n != 2 {
		t.Errorf("%d warning lines, want 2: %q", n, logs.messages(slog.LevelWarn))
	}
	// The second line, a minute after the first, counts the 12,499
	// packets in between; the stop line counts them all.
	if n := suppressedTotal(logs, "packets of another ssrc dropped"); n != 12499 {
		t.Errorf("lines report %d suppressed, want 12499", n)
	}
	if v := logs.attr("recording stopped", "foreign_ssrc"); v.Uint64() != 25000 {
		t.Errorf("recording stopped with foreign_ssrc=%v, want 25000", v)
	}
}

// suppressedTotal sums the "suppressed" attribute of the records with
// message msg.
func suppressedTotal(logs *logRecorder, msg string) uint64 {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	var n uint64
	for _, r := range logs.records {
		if r.Message != msg {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "suppressed" {
				n += a.Value.Uint64()
			}
			return true
		})
	}
	return n
}

// TestSourceIsProvisionalUntilRecorded is issue 9 row 3 at the recorder:
// packets of other sources that reach a track before the publisher's own
// (datagrams a third party sprayed before the rtsp server undid their
// latch) do not fix its SSRC, so the publisher's stream is recorded whole.
func TestSourceIsProvisionalUntilRecorded(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	for i := range 20 {
		spray := &sender{pt: 96, ssrc: uint32(0xbad0 + i), seq: uint16(i * 977)}
		rec.WriteRTP(0, spray.packet(uint32(i)*9000, true, []byte{0x41, 1, 2, 3}))
	}
	video := &sender{pt: 96, ssrc: 7}
	h.pushOn(rec, video, 0, 100)
	rec.Close()
	rec.Wait()
	_, files := h.readSegments("cam")
	if frames := frameCount(t, files); frames != 100 {
		t.Errorf("%d frames recorded, want 100", frames)
	}
	if _, ts := rec.Stats(); ts[0].ForeignSSRC != 0 {
		t.Errorf("%d packets of the publisher dropped as foreign", ts[0].ForeignSSRC)
	}
}
