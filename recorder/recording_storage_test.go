package recorder_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// messages returns the messages of the records at level min or above,
// sorted (storage and recorder goroutines interleave).
func (l *logRecorder) messages(min slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level >= min {
			out = append(out, r.Level.String()+" "+r.Message)
		}
	}
	slices.Sort(out)
	return out
}

// attr returns attribute key of the first record with message msg.
func (l *logRecorder) attr(msg, key string) slog.Value {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		var v slog.Value
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value
			}
			return true
		})
		if r.Message == msg {
			return v
		}
	}
	return slog.Value{}
}

// pushFrames sends 25 fps H.264 frames [from, to) with a keyframe every 25,
// at real-time clock pace, and waits after each frame until the storage
// writers are idle, so that write failures surface at a fixed frame.
func (h *harness) pushFrames(rec *recorder.Recording, video *sender, t0 time.Time, from, to int) {
	for i := from; i < to; i++ {
		h.clock.now = t0.Add(time.Duration(i) * 40 * time.Millisecond)
		for _, p := range video.h264Frame(uint32(i*3600), i%25 == 0, i) {
			rec.WriteRTP(0, p)
		}
		synctest.Wait()
	}
}

// TestStorageErrorPausesAndResumes fills the disk in the middle of a
// recording: the recording seals what it has, says so in one Error line,
// drops media while in StateStorageError (one failed retry included), and
// resumes at the first keyframe after StorageRetry once space is back,
// with one Info line that counts what was dropped.
func TestStorageErrorPausesAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		plan := &storage.FaultPlan{}
		log := slog.New(logs)
		h := newHarnessStore(t, recorder.Config{Logger: log, StorageRetry: 5 * time.Second},
			storage.Config{Sync: storage.SyncFragment, Faults: plan, Logger: log})
		rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := rec.State(); st != recorder.StateWaiting {
			t.Errorf("state %v before the first keyframe, want waiting", st)
		}
		video := &sender{pt: 96, ssrc: 1}
		t0 := h.clock.now
		h.pushFrames(rec, video, t0, 0, 75)
		if st, err := rec.State(); st != recorder.StateRecording || err != nil {
			t.Fatalf("state %v (%v), want recording", st, err)
		}
		// Frame 75 flushes the 3rd fragment (frames 50-74), whose write
		// fails; frame 100 (4 s) finds the error. The retry with the
		// fragment flushed at frame 225 (9 s) fails too; the one at frame
		// 375 (15 s, frames 350-374), after space came back at frame 325,
		// works and is confirmed at frame 400 (16 s). Dropped: frames
		// 50-349, 12 fragments.
		plan.Add(storage.FaultRule{Op: storage.FileWrite, Camera: "cam", Err: syscall.ENOSPC})
		h.pushFrames(rec, video, t0, 75, 325)
		st, err := rec.State()
		if st != recorder.StateStorageError || !errors.Is(err, storage.ErrNoSpace) {
			t.Fatalf("state %v (%v), want storage_error with ErrNoSpace", st, err)
		}
		plan.Clear()
		h.pushFrames(rec, video, t0, 325, 525)
		if st, err := rec.State(); st != recorder.StateRecording || err != nil {
			t.Fatalf("state %v (%v) after space came back, want recording", st, err)
		}
		rec.Close()
		rec.Wait()
		stats, _ := rec.Stats()
		if stats.FragmentsDropped != 12 || stats.StorageErrors != 1 {
			t.Errorf("dropped %d fragments in %d outages, want 12 in 1", stats.FragmentsDropped, stats.StorageErrors)
		}
		want := []string{"ERROR storage failed; recording paused", "INFO new data directory", "INFO recording resumed", "INFO recording started",
			"INFO recording stopped", "INFO segment sealed", "INFO segment sealed", "INFO segment started"}
		if got := logs.messages(slog.LevelInfo); !slices.Equal(got, want) {
			t.Errorf("log records:\n%q\nwant\n%q", got, want)
		}
		if v := logs.attr("recording resumed", "fragments_dropped"); v.Uint64() != 12 {
			t.Errorf("resumed with fragments_dropped=%v, want 12", v)
		}
		if v := logs.attr("recording resumed", "dur"); v.Duration() != 12*time.Second {
			t.Errorf("resumed after %v down, want 12s (4 s to 16 s)", v)
		}
		if v := logs.attr("storage failed; recording paused", "reason"); v.String() != "disk full" {
			t.Errorf("reason %q, want disk full", v)
		}
		h.checkOutage(t0)
		h.close()
	})
}

// checkOutage checks the two segments around the outage: frames 0-49 (the
// 3rd fragment's write failed) and frames 350-524.
func (h *harness) checkOutage(t0 time.Time) {
	t := h.t
	infos, files := h.readSegments("cam")
	if len(infos) != 2 {
		t.Fatalf("%d segments, want 2", len(infos))
	}
	for i, w := range []struct {
		start     time.Time
		fragments int
		frames    int
	}{{t0, 2, 50}, {t0.Add(14 * time.Second), 7, 175}} {
		info := infos[i]
		if info.Start.Sub(w.start).Abs() > time.Millisecond || len(info.Fragments) != w.fragments {
			t.Errorf("segment %d: start %v with %d fragments, want %v with %d", i, info.Start,
				len(info.Fragments), w.start, w.fragments)
		}
		if n := len(samplesOf(t, files[i], 1)); n != w.frames {
			t.Errorf("segment %d: %d frames, want %d", i, n, w.frames)
		}
	}
	if c := h.store.Counters("cam"); c.NoSpace != 2 || c.SegmentsSealed != 2 || c.FragmentsWritten != 9 {
		t.Errorf("storage counters %+v, want 2 disk-full events, 2 segments, 9 fragments", c)
	}
}

// TestBackpressure stalls the storage writer for 2 s while a camera sends
// 25 fps with a keyframe a second (issue 9, item 8). Frame 50 hands
// fragment 2 (frames 25-49) to the writer, which stalls in its write.
//
// With a write queue of one, frame 75 fills the queue with fragment 3 and
// frame 100 finds it full with fragment 4. A recording fed over TCP waits
// in WriteRTP (its caller would read no more of the source) and, once the
// writer resumes within BackpressureWait, goes on with no frame lost. A
// recording fed over UDP never blocks: it drops fragment 4 (frames 75-99)
// and counts it.
//
// With a budget of 64 KiB (the least Validate accepts) and frames padded to
// about 1.5 KiB, frame 67 would take the recording past it while fragment 2
// waits to be written: over TCP the recording waits for
// that write instead of ending; over UDP it ends with ErrOverBudget.
func TestBackpressure(t *testing.T) {
	queue := storage.Config{WriteQueue: 1, Writers: 1}
	budget := recorder.Config{MaxFragmentBytes: 64 << 10, MaxRecordingBuffer: 64 << 10, MaxUnitBytes: 64 << 10}
	// Padded by this much, frame 67 is the first that does not fit the budget (1480 to 1510 bytes
	// of padding give that frame).
	const budgetPad = 1495
	tcp := recorder.OpenOptions{Backpressure: true}
	for _, tc := range []struct {
		name    string
		cfg     recorder.Config
		scfg    storage.Config
		opt     recorder.OpenOptions
		held    int // the frame whose WriteRTP meets the stall
		frames  int
		lost    uint64
		delayed uint64
		blocked time.Duration
		err     error
		warning string
		pad     int
	}{
		{"queue/tcp", recorder.Config{}, queue, tcp, 100, 150, 0, 1, 2 * time.Second, nil,
			"WARN storage behind; source held back", 0},
		{"queue/udp", recorder.Config{}, queue, recorder.OpenOptions{}, 100, 125, 1, 0, 0, nil,
			"WARN write queue full; fragment dropped", 0},
		{"budget/tcp", budget, storage.Config{}, tcp, 67, 150, 0, 0, 2 * time.Second, nil,
			"WARN storage behind; source held back", budgetPad},
		{"budget/udp", budget, storage.Config{}, recorder.OpenOptions{}, 67, 50, 0, 0, 0, recorder.ErrOverBudget,
			"WARN recording ended", budgetPad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logs := &logRecorder{}
				plan := &storage.FaultPlan{}
				tc.cfg.Logger, tc.cfg.BackpressureWait = slog.New(logs), 3*time.Second
				tc.scfg.Sync, tc.scfg.Faults = storage.SyncNone, plan
				h := newHarnessStore(t, tc.cfg, tc.scfg)
				rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, tc.opt)
				if err != nil {
					t.Fatal(err)
				}
				video := &sender{pt: 96, ssrc: 1, pad: tc.pad}
				t0 := h.clock.now
				h.pushFrames(rec, video, t0, 0, 50)
				hold := make(chan struct{})
				resume := sync.OnceFunc(func() { close(hold) })
				t.Cleanup(func() { resume(); h.close() })
				plan.Add(storage.FaultRule{Op: storage.FileWrite, Camera: "cam", Hold: hold})
				h.pushFrames(rec, video, t0, 50, tc.held)

				done := make(chan struct{})
				go func() {
					defer close(done)
					h.clock.now = t0.Add(time.Duration(tc.held) * 40 * time.Millisecond)
					for _, p := range video.h264Frame(uint32(tc.held*3600), tc.held%25 == 0, tc.held) {
						rec.WriteRTP(0, p)
					}
				}()
				time.Sleep(2 * time.Second) // fake time: the disk stalls for 2 s
				synctest.Wait()
				select {
				case <-done:
					if tc.opt.Backpressure {
						t.Fatal("WriteRTP returned while storage was stalled")
					}
				default:
					if !tc.opt.Backpressure {
						t.Fatal("WriteRTP of a UDP-fed recording blocked")
					}
				}
				resume()
				<-done
				h.pushFrames(rec, video, t0, tc.held+1, 150)
				rec.Close()
				rec.Wait()

				st, _ := rec.Stats()
				if st.FragmentsLost != tc.lost || st.FragmentsDelayed != tc.delayed || st.Blocked != tc.blocked {
					t.Errorf("lost %d, delayed %d, blocked %v; want %d, %d, %v", st.FragmentsLost,
						st.FragmentsDelayed, st.Blocked, tc.lost, tc.delayed, tc.blocked)
				}
				if err := rec.Err(); !errors.Is(err, tc.err) {
					t.Errorf("Err %v, want %v", err, tc.err)
				}
				_, files := h.readSegments("cam")
				if n := frameCount(t, files); n != tc.frames {
					t.Errorf("%d frames recorded, want %d", n, tc.frames)
				}
				if got := logs.messages(slog.LevelWarn); !slices.Equal(got, []string{tc.warning}) {
					t.Errorf("warnings %q, want %q", got, tc.warning)
				}
			})
		})
	}
}
