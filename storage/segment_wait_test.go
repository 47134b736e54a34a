package storage

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestAppendWait stalls the only writer on a write (a held disk) with a
// queue of one: Append drops at once, AppendWait gives up with
// ErrQueueFull after its wait, and an AppendWait that the writer makes
// room for within its wait gets in, so no fragment is lost (issue 9,
// item 8).
func TestAppendWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newFaultRig(t, Config{Sync: SyncNone, WriteQueue: 1, Writers: 1}, -1)
		seg, err := r.s.Create("cam", faultStart, 1, aacInit(t))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the file is created
		hold := make(chan struct{})
		r.plan.Add(FaultRule{Op: FileWrite, Camera: "cam", Count: 1, Hold: hold})
		r.appendFragment(seg, 0)
		synctest.Wait() // the writer holds fragment 0 in its write
		if err := seg.Append(r.fragmentBuf(seg, 1)); err != nil {
			t.Fatal(err)
		}
		// The queue is full now.
		if err := seg.Append(r.fragmentBuf(seg, 2)); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("Append on a full queue: %v, want ErrQueueFull", err)
		}
		fi, buf := r.fragmentBuf(seg, 2)
		if waited, err := seg.AppendWait(fi, buf, time.Second); !errors.Is(err, ErrQueueFull) || waited != time.Second {
			t.Fatalf("AppendWait past its wait: %v after %v, want ErrQueueFull after 1s", err, waited)
		}

		type result struct {
			waited time.Duration
			err    error
		}
		done := make(chan result, 1)
		go func() {
			fi, buf := r.fragmentBuf(seg, 2)
			waited, err := seg.AppendWait(fi, buf, 5*time.Second)
			done <- result{waited, err}
		}()
		time.Sleep(2 * time.Second) // fake time: the disk stalls for 2 s
		synctest.Wait()
		select {
		case res := <-done:
			t.Fatalf("AppendWait returned %v while the writer was stalled", res.err)
		default:
		}
		close(hold)
		if res := <-done; res.err != nil || res.waited != 2*time.Second {
			t.Fatalf("AppendWait: %v after %v, want nil after 2s", res.err, res.waited)
		}
		sealWait(seg)
		if n := seg.Fragments(); n != 3 {
			t.Errorf("%d fragments written, want 3", n)
		}
	})
}

// fragmentBuf returns fragment i of seg in a buffer of the Store.
func (r *faultRig) fragmentBuf(seg *Segment, i int) (FragmentInfo, *[]byte) {
	b, fi := faultFragment(i, seg.start)
	buf := r.s.Buffer()
	*buf = append(*buf, b...)
	return fi, buf
}
