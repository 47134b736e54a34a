package storage

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// observed is one FragmentWritten call.
type observed struct {
	camera       string
	bytes        int
	write, fsync time.Duration
}

// recordingObserver keeps every FragmentWritten call.
type recordingObserver struct {
	mu    sync.Mutex // guards calls
	calls []observed
}

func (o *recordingObserver) FragmentWritten(camera string, bytes int, write, sync time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, observed{camera, bytes, write, sync})
}

// TestObserverAndQueued records three fragments on one writer whose disk
// stalls for 2 s in fragment 1's write and for 3 s in fragment 2's
// fdatasync (fake time): the Observer hears of each fragment once, with
// those durations, and Queued counts the operations waiting behind the
// stall.
func TestObserverAndQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &recordingObserver{}
		r := newFaultRig(t, Config{Sync: SyncFragment, Writers: 1, Observer: obs}, -1)
		seg, err := r.s.Create("cam", faultStart, 1, aacInit(t))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the file is created
		holdWrite, holdSync := make(chan struct{}), make(chan struct{})
		r.plan.Add(FaultRule{Op: FileWrite, Camera: "cam", Skip: 1, Count: 1, Hold: holdWrite})
		r.plan.Add(FaultRule{Op: FileDatasync, Camera: "cam", Skip: 2, Count: 1, Hold: holdSync})
		var sizes []int
		for i := range 4 {
			b, _ := faultFragment(i, seg.start)
			sizes = append(sizes, len(b))
			r.appendFragment(seg, i)
		}
		synctest.Wait() // the writer is held in fragment 1's write
		if q := r.s.Counters("cam").Queued; q != 2 {
			t.Errorf("Queued %d behind the held write, want 2", q)
		}
		time.Sleep(2 * time.Second)
		close(holdWrite)
		synctest.Wait() // held in fragment 2's fdatasync
		if q := r.s.Counters("cam").Queued; q != 1 {
			t.Errorf("Queued %d behind the held fdatasync, want 1", q)
		}
		time.Sleep(3 * time.Second)
		close(holdSync)
		sealWait(seg)
		if q := r.s.Counters("cam").Queued; q != 0 {
			t.Errorf("Queued %d after the seal, want 0", q)
		}
		want := []observed{{"cam", sizes[0], 0, 0}, {"cam", sizes[1], 2 * time.Second, 0},
			{"cam", sizes[2], 0, 3 * time.Second}, {"cam", sizes[3], 0, 0}}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if !slices.Equal(obs.calls, want) {
			t.Errorf("observed\n %v\nwant\n %v", obs.calls, want)
		}
	})
}
