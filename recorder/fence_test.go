package recorder_test

import (
	"sync"
	"testing"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
)

// fence is a Config.Fence whose answer the test sets.
type fence struct {
	mu  sync.Mutex
	rev int64
	ok  bool
}

func (f *fence) get(string) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev, f.ok
}

func (f *fence) set(rev int64, ok bool) {
	f.mu.Lock()
	f.rev, f.ok = rev, ok
	f.mu.Unlock()
}

// step is a third of the recordings of the fence tests: the fence's answer, then 75 frames.
type step struct {
	rev int64
	ok  bool
}

// recordSteps records 225 frames of one camera in three steps and returns the revisions of
// the segments, checking that no frame was lost and that segments do not overlap.
func recordSteps(t *testing.T, steps [3]step) []int64 {
	t.Helper()
	f := &fence{rev: steps[0].rev, ok: steps[0].ok}
	h := newHarness(t, recorder.Config{Fence: f.get})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7}
	for i, s := range steps {
		f.set(s.rev, s.ok)
		h.pushOn(rec, video, 75*i, 75*(i+1))
	}
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	var revs []int64
	for i, info := range infos {
		revs = append(revs, info.Revision)
		if i > 0 && info.Start.Before(infos[i-1].End) {
			t.Errorf("segment %d starts %v before previous end %v", i, info.Start, infos[i-1].End)
		}
	}
	if n := frameCount(t, files); n != 225 {
		t.Errorf("%d frames recorded, want 225", n)
	}
	return revs
}

// TestFencingRevision: segments carry the revision Config.Fence gives; a
// change seals the segment at the next fragment, and while ownership is in
// doubt recording goes on under the negated last revision, without losing
// a frame.
func TestFencingRevision(t *testing.T) {
	// 3 s at revision 5, in doubt (-5), owned again at 9.
	revs := recordSteps(t, [3]step{{5, true}, {0, false}, {9, true}})
	if len(revs) != 3 || revs[0] != 5 || revs[1] != -5 || revs[2] != 9 {
		t.Fatalf("segment revisions %v, want [5 -5 9]", revs)
	}
}

// TestFencingRevisionInDoubt: a recording that starts in doubt is created
// under the negated revision Fence gives with ok false (issue 13: a pushed
// camera not claimed yet), keeps it while Fence's answer moves on in doubt,
// and is sealed when the claim makes Fence ok.
func TestFencingRevisionInDoubt(t *testing.T) {
	// In doubt with etcd seen at 12, still in doubt (the segment keeps -12), claimed at 20.
	revs := recordSteps(t, [3]step{{12, false}, {14, false}, {20, true}})
	if len(revs) != 2 || revs[0] != -12 || revs[1] != 20 {
		t.Fatalf("segment revisions %v, want [-12 20]", revs)
	}
}
