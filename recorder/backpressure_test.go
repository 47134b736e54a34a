package recorder_test

import (
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

// TestBackpressure stalls the storage writer (one writer, a queue of one)
// for 2 s while a camera sends 25 fps with a keyframe a second (issue 9,
// item 8). Frame 50 hands fragment 2 to the writer, which stalls in its
// write; frame 75 fills the queue with fragment 3; frame 100 finds it full
// with fragment 4. A recording fed over TCP waits in WriteRTP (its caller
// would read no more of the source) and, once the writer resumes within
// BackpressureWait, goes on with no frame lost. A recording fed over UDP
// never blocks: it drops fragment 4 (frames 75-99) and counts it.
func TestBackpressure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opt     recorder.OpenOptions
		frames  int
		lost    uint64
		delayed uint64
		blocked time.Duration
		warning string
	}{
		{"tcp", recorder.OpenOptions{Backpressure: true}, 150, 0, 1, 2 * time.Second,
			"WARN write queue full; source held back"},
		{"udp", recorder.OpenOptions{}, 125, 1, 0, 0, "WARN write queue full; fragment dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logs := &logRecorder{}
				plan := &storage.FaultPlan{}
				h := newHarnessStore(t, recorder.Config{Logger: slog.New(logs), BackpressureWait: 3 * time.Second},
					storage.Config{Sync: storage.SyncNone, WriteQueue: 1, Writers: 1, Faults: plan})
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
				h.pushFrames(rec, video, t0, 50, 100)

				done := make(chan struct{})
				go func() {
					defer close(done)
					h.clock.now = t0.Add(100 * 40 * time.Millisecond)
					for _, p := range video.h264Frame(100*3600, true, 100) {
						rec.WriteRTP(0, p)
					}
				}()
				time.Sleep(2 * time.Second) // fake time: the disk stalls for 2 s
				synctest.Wait()
				select {
				case <-done:
					if tc.opt.Backpressure {
						t.Fatal("WriteRTP returned while the write queue was full")
					}
				default:
					if !tc.opt.Backpressure {
						t.Fatal("WriteRTP of a UDP-fed recording blocked")
					}
				}
				resume()
				<-done
				h.pushFrames(rec, video, t0, 101, 150)
				rec.Close()
				rec.Wait()

				st, _ := rec.Stats()
				if st.FragmentsLost != tc.lost || st.FragmentsDelayed != tc.delayed || st.Blocked != tc.blocked {
					t.Errorf("lost %d, delayed %d, blocked %v; want %d, %d, %v", st.FragmentsLost,
						st.FragmentsDelayed, st.Blocked, tc.lost, tc.delayed, tc.blocked)
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
