package recorder_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
)

// TestMediaTimeRacingAheadEndsRecording is issue 9 row 5: one IDR, then
// non-key units each 9 s of RTP time apart, 40 ms apart on the server
// clock. Every unit whose media time runs more than ClockTolerance ahead
// re-anchors the timeline, nothing is indexed past the server clock plus
// ClockTolerance, and the fourth re-anchor within a minute ends the
// recording with ErrClockRacing and one line. A later honest push of the
// camera is indexed at the server's time, not in the future.
func TestMediaTimeRacingAheadEndsRecording(t *testing.T) {
	logs := &logRecorder{}
	h := newHarness(t, recorder.Config{Logger: slog.New(logs)})
	defer h.close()
	const tolerance = 5 * time.Second // the default
	for _, audio := range []bool{false, true} {
		tracks := []*media.Track{h264Track()}
		if audio {
			tracks = append(tracks, aacTrack())
		}
		rec, err := h.rec.Open("cam", tracks, recorder.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		video, aac := &sender{pt: 96, ssrc: 7}, &sender{pt: 97, ssrc: 8}
		for i := range 400 { // 16 s of server time, 1 h of media time
			h.clock.now = h.clock.now.Add(40 * time.Millisecond)
			if audio {
				// Video stays honest; audio races.
				for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
					rec.WriteRTP(0, p)
				}
				rec.WriteRTP(1, aac.aacFrame(uint32(i*9*48000)))
			} else {
				for _, p := range video.h264Frame(uint32(i*9*90000), i == 0, i) {
					rec.WriteRTP(0, p)
				}
			}
		}
		select {
		case <-rec.Done(): // WriteRTP ends it before it returns
		default:
			t.Fatalf("audio %v: the racing recording is still running", audio)
		}
		if err := rec.Err(); !errors.Is(err, recorder.ErrClockRacing) {
			t.Errorf("audio %v: Err() = %v, want ErrClockRacing", audio, err)
		}
		rec.Wait()
		checkNotAhead(t, h, tolerance)
	}
	if n := countMessages(logs, slog.LevelWarn, "recording ended"); n != 2 {
		t.Errorf("%d 'recording ended' lines, want 2", n)
	}
	if n := countMessages(logs, slog.LevelWarn, "media time runs ahead of the server clock; starting a new timeline"); n != 2 {
		t.Errorf("%d 'media time runs ahead' lines, want one per recording", n)
	}

	// An honest push of the same camera afterwards.
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := h.clock.now
	h.pushOn(rec, &sender{pt: 96, ssrc: 9}, 0, 100)
	rec.Close()
	rec.Wait()
	checkNotAhead(t, h, tolerance)
	checkNoOverlap(t, h)
	infos, _ := h.readSegments("cam")
	last := infos[len(infos)-1]
	if d := last.Start.Sub(start); d < 0 || d > time.Second {
		t.Errorf("honest segment starts %v after the push began, want at once", d)
	}
}

// checkNotAhead fails when the index holds anything of cam that ends after
// the server clock plus tolerance.
func checkNotAhead(t *testing.T, h *harness, tolerance time.Duration) {
	t.Helper()
	infos, _ := h.readSegments("cam")
	limit := h.clock.now.Add(tolerance)
	for _, info := range infos {
		if info.End.After(limit) {
			t.Errorf("segment %s ends at %v, past the server clock %v plus %v", info.File, info.End, h.clock.now, tolerance)
		}
		for _, f := range info.Fragments {
			if f.End().After(limit) {
				t.Errorf("fragment at %v ends at %v, past the server clock plus %v", f.Start, f.End(), tolerance)
			}
		}
	}
}

// A server clock that steps back an hour once re-anchors the recording
// once; that is not a race.
func TestOneClockStepIsNotARace(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	h.pushOn(rec, video, 0, 100)
	h.clock.now = h.clock.now.Add(-time.Hour)
	h.pushOn(rec, video, 100, 300)
	if err := rec.Err(); err != nil {
		t.Fatalf("Err() = %v after one clock step", err)
	}
	rec.Close()
}

// Keyframes whose timestamps jump back and forth by a minute would each
// start a segment; the fourth jump within a minute ends the recording.
func TestTimestampJumpsEndRecording(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	for i := range 50 {
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		ts := uint32(i * 3600)
		if i%2 == 1 {
			ts += 60 * 90000
		}
		for _, p := range video.h264Frame(ts, true, i) {
			rec.WriteRTP(0, p)
		}
	}
	if err := rec.Err(); !errors.Is(err, recorder.ErrClockRacing) {
		t.Fatalf("Err() = %v, want ErrClockRacing", err)
	}
	if st, _ := rec.Stats(); st.Segments > 4 {
		t.Errorf("%d segments, want at most one per allowed re-anchor", st.Segments)
	}
}

// checkNoOverlap fails when two segments of cam overlap in the index.
func checkNoOverlap(t *testing.T, h *harness) {
	t.Helper()
	infos, _ := h.readSegments("cam")
	for i := 1; i < len(infos); i++ {
		if infos[i].Start.Before(infos[i-1].End) {
			t.Errorf("segment %s starts at %v, before %s ends at %v", infos[i].File, infos[i].Start, infos[i-1].File, infos[i-1].End)
		}
	}
}

// TestArchiveAheadIsWaitedFor: when the camera's archive ends more than
// half the tolerance past the server clock (a source that ran 4 s ahead,
// or a process that stalled and then read a burst of queued media), the
// next recording neither overlaps it nor follows it at once: its first
// fragments are dropped until the clock is within half the tolerance of
// the archive's end, and then it continues right after it.
func TestArchiveAheadIsWaitedFor(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	defer h.close()
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7}
	for i := range 100 { // 4 s of server time carrying 8 s of media time
		h.clock.now = h.clock.now.Add(40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*7200), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
	}
	rec.Close()
	rec.Wait()
	infos, _ := h.readSegments("cam")
	archiveEnd := infos[len(infos)-1].End
	ahead := archiveEnd.Sub(h.clock.now)
	if ahead <= 2500*time.Millisecond {
		t.Fatalf("the first recording ends %v past the clock; the test needs more than half the tolerance", ahead)
	}
	rec, err = h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.pushOn(rec, &sender{pt: 96, ssrc: 9}, 0, 200)
	rec.Close()
	rec.Wait()
	checkNoOverlap(t, h)
	infos, _ = h.readSegments("cam")
	last := infos[len(infos)-1]
	if !last.Start.Equal(archiveEnd) {
		t.Errorf("the next recording starts at %v, want right after the archive at %v", last.Start, archiveEnd)
	}
	if st, _ := rec.Stats(); st.FragmentsDropped == 0 || st.FragmentsDropped > 3 {
		t.Errorf("%d fragments dropped while waiting, want 1..3 (%v ahead, half the tolerance allowed)", st.FragmentsDropped, ahead)
	}
}

// TestStallsAreNotARace: a server that stalls for 8 s and then reads the
// queued media in a burst sees the media run ahead of its clock; four such
// stalls in a minute re-anchor the recording, but over the minute the
// media time kept to the clock, so the recording goes on.
func TestStallsAreNotARace(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	frame := 0
	send := func(n int, advance bool) {
		for range n {
			if advance {
				h.clock.now = h.clock.now.Add(40 * time.Millisecond)
			}
			for _, p := range video.h264Frame(uint32(frame*3600), frame%25 == 0, frame) {
				rec.WriteRTP(0, p)
			}
			frame++
		}
	}
	send(100, true)
	for range 4 {
		h.clock.now = h.clock.now.Add(8 * time.Second) // the stall
		send(200, false)                               // its 8 s of queued media at once
		send(50, true)
	}
	select {
	case <-rec.Done():
		t.Fatalf("recording ended: %v", rec.Err())
	default:
	}
	rec.Close()
	rec.Wait()
	checkNoOverlap(t, h)
}
