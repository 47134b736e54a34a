package ingest

import (
	"sync"
	"sync/atomic"

	"github.com/camvault/camvault/media"
)

// tee feeds a camera's packets to its live relay (never blocking) and, while
// one is open, to its recording. A pull switches the recording on and off
// as its schedule opens and closes while viewers keep the camera live.
type tee struct {
	live     Writer // nil without a relay
	liveOnce sync.Once
	rec      atomic.Pointer[recording]
}

// recording boxes a recording's Writer for the atomic pointer.
type recording struct{ w Writer }

// openTee opens the camera's live writer (if live is set) and, if record,
// its recording.
func openTee(rec, live Sink, camera string, tracks []*media.Track, feed Feed, record bool) (*tee, error) {
	t := &tee{}
	if record {
		if err := t.startRecording(rec, camera, tracks, feed); err != nil {
			return nil, err
		}
	}
	if live != nil {
		w, err := live.Open(camera, tracks, feed)
		if err != nil {
			t.stopRecording()
			return nil, err
		}
		t.live = w
	}
	return t, nil
}

// startRecording opens the recording unless one is open.
func (t *tee) startRecording(rec Sink, camera string, tracks []*media.Track, feed Feed) error {
	if t.rec.Load() != nil {
		return nil
	}
	w, err := rec.Open(camera, tracks, feed)
	if err != nil {
		return err
	}
	t.rec.Store(&recording{w})
	return nil
}

// stopRecording closes the recording, if one is open; live goes on.
func (t *tee) stopRecording() {
	if r := t.rec.Swap(nil); r != nil {
		r.w.Close()
	}
}

// recording returns the open recording's Writer, or nil.
func (t *tee) recording() Writer {
	if r := t.rec.Load(); r != nil {
		return r.w
	}
	return nil
}

func (t *tee) WriteRTP(i int, b []byte) {
	if t.live != nil {
		t.live.WriteRTP(i, b)
	}
	if w := t.recording(); w != nil {
		w.WriteRTP(i, b)
	}
}

func (t *tee) WriteRTCP(i int, b []byte) {
	if t.live != nil {
		t.live.WriteRTCP(i, b)
	}
	if w := t.recording(); w != nil {
		w.WriteRTCP(i, b)
	}
}

// Close ends the live relay, then the recording.
func (t *tee) Close() {
	t.closeLive()
	t.stopRecording()
}

// closeLive ends the live relay (once; a Writer's Close may be called
// again).
func (t *tee) closeLive() {
	if t.live != nil {
		t.liveOnce.Do(t.live.Close)
	}
}

// never is the Done of a tee without a recording.
var never = make(chan struct{})

// Done is closed when the open recording ended by itself or by Close;
// without a recording it never is.
func (t *tee) Done() <-chan struct{} {
	if w := t.recording(); w != nil {
		return w.Done()
	}
	return never
}

// Err is the open recording's Err.
func (t *tee) Err() error {
	if w := t.recording(); w != nil {
		return w.Err()
	}
	return nil
}
