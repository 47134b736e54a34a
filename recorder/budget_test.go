package recorder_test

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"testing"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// stalledStore returns a storage configuration whose single writer blocks
// on its first write (a disk-full write whose Reclaim waits) until the
// returned release function is called.
func stalledStore() (storage.Config, func()) {
	plan := &storage.FaultPlan{}
	plan.Add(storage.FaultRule{Op: storage.FileWrite, Count: 1, Err: syscall.ENOSPC})
	stall := make(chan struct{})
	var once sync.Once
	return storage.Config{Sync: storage.SyncNone, Writers: 1, Faults: plan,
			Reclaim: func(int64) int64 { <-stall; return 1 }},
		func() { once.Do(func() { close(stall) }) }
}

// sameTimestampFlood sends bytes of H.264 in units of 256 KiB that all
// carry RTP timestamp 0: an IDR, then non-key slices.
func sameTimestampFlood(rec *recorder.Recording, video *sender, bytes int) {
	payload := make([]byte, 1400)
	for sent, first := 0, true; sent < bytes; first = false {
		for p := 0; p < 187 && sent < bytes; p++ { // 187 FU-A packets: 256 KiB
			hdr := byte(1)
			if first {
				hdr = 5
			}
			if p == 0 {
				hdr |= 0x80
			}
			if p == 186 || sent+len(payload) >= bytes {
				hdr |= 0x40
			}
			rec.WriteRTP(0, video.packet(0, hdr&0x40 != 0, append([]byte{0x7c, hdr}, payload...)))
			sent += len(payload)
		}
	}
}

// TestOverBudgetEndsRecording is issue 9 row 2: 4 recordings each send
// 60 MB of access units that share one RTP timestamp, while the disk
// stalls. No fragment is ever cut by media time. The first two fill the
// 64 MiB process budget: each is cut at its own 32 MiB budget (one 16 MiB
// fragment queued, the next filling) and ends itself with ErrOverBudget.
// The other two find the process budget taken: they drop their fragments
// and go on (a shortage of all cameras must not end them all), and Open is
// refused until storage has written what was queued.
func TestOverBudgetEndsRecording(t *testing.T) {
	scfg, release := stalledStore()
	logs := &logRecorder{}
	// The defaults: 16 MiB fragments, 32 MiB per recording.
	cfg := recorder.Config{MaxBuffer: 64 << 20, Logger: slog.New(logs)}
	h := newHarnessStore(t, cfg, scfg)
	defer h.close()
	defer release() // before h.close: the store cannot close while its writer is stalled
	var recs []*recorder.Recording
	for _, cam := range []string{"cam1", "cam2", "cam3", "cam4"} {
		rec, err := h.rec.Open(cam, []*media.Track{h264Track()}, recorder.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	for i, rec := range recs {
		sameTimestampFlood(rec, &sender{pt: 96, ssrc: uint32(i + 1)}, 60e6)
	}
	for i, rec := range recs {
		st, _ := rec.Stats()
		if st.PeakBuffered > 32<<20 {
			t.Errorf("recording %d buffered %d bytes, over its 32 MiB budget", i, st.PeakBuffered)
		}
		ended := false
		select {
		case <-rec.Done():
			ended = true
		default:
		}
		switch {
		case i < 2 && (!ended || !errors.Is(rec.Err(), recorder.ErrOverBudget)):
			t.Errorf("recording %d: ended %v, Err() = %v, want ended with ErrOverBudget", i, ended, rec.Err())
		case i >= 2 && (ended || st.FragmentsLost == 0):
			t.Errorf("recording %d: ended %v (%v) with %d fragments lost, want running and dropping", i, ended, rec.Err(), st.FragmentsLost)
		}
	}
	if b := h.rec.Buffered(); b > 64<<20 || b < 3*16<<20 {
		t.Errorf("recordings hold %d bytes together, want the queued fragments within the 64 MiB process budget", b)
	}
	if _, err := h.rec.Open("cam5", []*media.Track{h264Track()}, recorder.OpenOptions{}); !errors.Is(err, recorder.ErrMemoryExhausted) {
		t.Fatalf("Open while the process budget is taken: %v, want ErrMemoryExhausted", err)
	}
	release()
	for _, rec := range recs {
		rec.Close()
		rec.Wait()
	}
	rec, err := h.rec.Open("cam5", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatalf("Open once storage caught up: %v", err)
	}
	rec.Close()
	if b := h.rec.Buffered(); b != 0 {
		t.Errorf("%d bytes still reserved after everything was written", b)
	}
	if n := countMessages(logs, slog.LevelWarn, "recording ended"); n != 2 {
		t.Errorf("%d 'recording ended' lines, want one per recording over its own budget", n)
	}
	// Each segment was sealed with the fragment that was complete.
	for _, cam := range []string{"cam1", "cam2"} {
		infos, _ := h.readSegments(cam)
		if len(infos) != 1 || len(infos[0].Fragments) != 1 {
			t.Errorf("%s: %d segments (%+v), want 1 with 1 fragment", cam, len(infos), infos)
		}
	}
}

// A plain Close ends the recording with Done closed and Err nil.
func TestCloseLeavesErrNil(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	h.push(rec, &sender{pt: 96, ssrc: 7}, nil, 2, false)
	rec.Close()
	<-rec.Done()
	if err := rec.Err(); err != nil {
		t.Errorf("Err() = %v after Close", err)
	}
	if st, _ := rec.Stats(); st.Buffered != 0 && st.PeakBuffered == 0 {
		t.Errorf("stats %+v", st)
	}
}

// countMessages counts the records of logs at level with message msg.
func countMessages(logs *logRecorder, level slog.Level, msg string) int {
	n := 0
	for _, m := range logs.messages(level) {
		if m == level.String()+" "+msg {
			n++
		}
	}
	return n
}
