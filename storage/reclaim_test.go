package storage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDiskFullReclaimsByRetention checks the default Reclaim hook: a write
// that finds the disk full deletes the oldest sealed segment of any camera
// under the policy in force and is retried; without a policy nothing is
// deleted and the segment fails with ErrNoSpace.
func TestDiskFullReclaimsByRetention(t *testing.T) {
	for _, policy := range []bool{true, false} {
		t.Run(map[bool]string{true: "policy set", false: "no policy"}[policy], func(t *testing.T) {
			r := newFaultRig(t, Config{}, -1) // -1: the store's own Reclaim
			old := r.record("old", faultStart.Add(-time.Hour), 3)
			sealWait(old)
			oldFile := filepath.Join(r.dir, old.file)
			if policy {
				r.s.SetRetention(Retention{})
			}
			// The 2nd fragment write of the live camera finds the disk full once.
			r.plan.Add(FaultRule{Op: FileWrite, Camera: "live", Skip: 2, Count: 1, Written: 700, Err: syscall.ENOSPC})
			live := r.record("live", faultStart, 4)
			sealWait(live)

			infos, err := r.s.Segments("live", time.Time{}, time.Time{}, true)
			if err != nil || len(infos) != 1 {
				t.Fatalf("live segments %+v, %v", infos, err)
			}
			olds, _ := r.s.Segments("old", time.Time{}, time.Time{}, false)
			_, statErr := os.Stat(oldFile)
			c := r.s.Counters("live")
			if policy {
				if live.Err() != nil || len(infos[0].Fragments) != 4 {
					t.Errorf("live: %v, %d fragments; want the write retried after reclaim", live.Err(), len(infos[0].Fragments))
				}
				if len(olds) != 0 || !os.IsNotExist(statErr) {
					t.Errorf("old segment kept (%d entries, stat %v); reclaim should have deleted it", len(olds), statErr)
				}
				if d := r.s.Counters("old").Deleted[ReasonReclaim]; d.Segments != 1 || d.Bytes == 0 {
					t.Errorf("old camera deletion counters %+v", d)
				}
				if c.Reclaimed == 0 || c.NoSpace != 1 {
					t.Errorf("live counters %+v", c)
				}
				return
			}
			if !errors.Is(live.Err(), ErrNoSpace) || len(infos[0].Fragments) != 1 {
				t.Errorf("live: %v, %d fragments; want ErrNoSpace after 1", live.Err(), len(infos[0].Fragments))
			}
			if len(olds) != 1 || statErr != nil {
				t.Errorf("old segment deleted without a retention policy (%d entries, stat %v)", len(olds), statErr)
			}
		})
	}
}
