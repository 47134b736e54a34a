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

// TestFencingRevision: segments carry the revision Config.Fence gives; a
// change seals the segment at the next fragment, and while ownership is in
// doubt recording goes on under the negated last revision, without losing
// a frame.
func TestFencingRevision(t *testing.T) {
	f := &fence{rev: 5, ok: true}
	h := newHarness(t, recorder.Config{Fence: f.get})
	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 7}
	h.pushOn(rec, video, 0, 75) // 3 s at revision 5
	f.set(0, false)
	h.pushOn(rec, video, 75, 150) // in doubt: -5
	f.set(9, true)
	h.pushOn(rec, video, 150, 225) // owned again, at 9
	rec.Close()
	rec.Wait()
	infos, files := h.readSegments("cam")
	defer h.store.Close()
	var revs []int64
	for _, info := range infos {
		revs = append(revs, info.Revision)
	}
	if len(revs) != 3 || revs[0] != 5 || revs[1] != -5 || revs[2] != 9 {
		t.Fatalf("segment revisions %v, want [5 -5 9]", revs)
	}
	for i := 1; i < len(infos); i++ {
		if infos[i].Start.Before(infos[i-1].End) {
			t.Errorf("segment %d starts %v before previous end %v", i, infos[i].Start, infos[i-1].End)
		}
	}
	if n := frameCount(t, files); n != 225 {
		t.Errorf("%d frames recorded, want 225", n)
	}
}
