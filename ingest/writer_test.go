package ingest_test

import "sync"

// testWriter is a recording as ingest sees it: it counts packets and can
// end by itself (end), as a recording over its budget does.
type testWriter struct {
	camera string
	done   chan struct{}

	mu      sync.Mutex
	packets int
	closed  bool
	err     error
}

func newTestWriter(camera string) *testWriter {
	return &testWriter{camera: camera, done: make(chan struct{})}
}

func (w *testWriter) WriteRTP(int, []byte) {
	w.mu.Lock()
	w.packets++
	w.mu.Unlock()
}

func (w *testWriter) WriteRTCP(int, []byte) {}

func (w *testWriter) Close() { w.finish(nil, true) }

// end ends the recording by itself with err.
func (w *testWriter) end(err error) { w.finish(err, false) }

func (w *testWriter) finish(err error, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = w.closed || closed
	select {
	case <-w.done:
		return
	default:
	}
	w.err = err
	close(w.done)
}

func (w *testWriter) Done() <-chan struct{} { return w.done }

func (w *testWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *testWriter) get() (packets int, closed bool) {
	if w == nil {
		return 0, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.packets, w.closed
}
