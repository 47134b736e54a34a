package storage

import (
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"
)

// TestRetentionEmptiesDayOfSegmentBeingSealed covers a segment that retention deletes in the
// moment between its sealed index entry and its leaving the open segments: its day directory
// cannot go then (an open segment lives in it), and goes when the segment leaves.
func TestRetentionEmptiesDayOfSegmentBeingSealed(t *testing.T) {
	r := newFaultRig(t, Config{}, -1)
	seg := r.record("cam", faultStart, 2)
	sealWait(seg)
	day := filepath.Join(r.dir, filepath.FromSlash(path.Dir(seg.file)))
	// Back among the open segments: the state between putSegment and removeOpen.
	r.s.mu.Lock()
	r.s.open[seg] = struct{}{}
	r.s.mu.Unlock()
	r.s.SetRetention(Retention{Cameras: map[string]RetentionPolicy{"cam": {MaxBytes: 1}}})
	rep, err := r.s.RunRetention(faultStart.Add(time.Hour), false)
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("retention deleted %d segments (%v), want the one", len(rep.Deleted), err)
	}
	if _, err := os.Stat(day); err != nil {
		t.Fatalf("the day directory of an open segment went: %v", err)
	}
	r.s.removeOpen(seg)
	if _, err := os.Stat(day); !os.IsNotExist(err) {
		t.Errorf("empty day directory %s left behind after its last segment left (stat: %v)", day, err)
	}
}
