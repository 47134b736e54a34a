package recorder_test

import (
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

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
// With a budget of 2 KiB, frame 67 would take the recording past it while
// fragment 2 waits to be written: over TCP the recording waits for that
// write instead of ending; over UDP it ends with ErrOverBudget.
func TestBackpressure(t *testing.T) {
	queue := storage.Config{WriteQueue: 1, Writers: 1}
	budget := recorder.Config{MaxFragmentBytes: 2 << 10, MaxRecordingBuffer: 2 << 10}
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
	}{
		{"queue/tcp", recorder.Config{}, queue, tcp, 100, 150, 0, 1, 2 * time.Second, nil,
			"WARN storage behind; source held back"},
		{"queue/udp", recorder.Config{}, queue, recorder.OpenOptions{}, 100, 125, 1, 0, 0, nil,
			"WARN write queue full; fragment dropped"},
		{"budget/tcp", budget, storage.Config{}, tcp, 67, 150, 0, 0, 2 * time.Second, nil,
			"WARN storage behind; source held back"},
		{"budget/udp", budget, storage.Config{}, recorder.OpenOptions{}, 67, 50, 0, 0, 0, recorder.ErrOverBudget,
			"WARN recording ended"},
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
				video := &sender{pt: 96, ssrc: 1}
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
