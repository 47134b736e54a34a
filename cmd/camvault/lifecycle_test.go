package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// stopLog records the order in which parts stop.
type stopLog struct {
	mu    sync.Mutex
	names []string
}

func (s *stopLog) closer(name string, err error) func() error {
	return func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.names = append(s.names, name)
		return err
	}
}

func (s *stopLog) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// partNames lists the started parts in start order.
func (l *lifecycle) partNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, len(l.parts))
	for i, p := range l.parts {
		names[i] = p.name
	}
	return names
}

func newTestLifecycle(ctx context.Context) *lifecycle {
	return newLifecycle(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestLifecycleStopsInReverseOnce: parts stop in reverse start order, each once, and a later
// stop does nothing.
func TestLifecycleStopsInReverseOnce(t *testing.T) {
	t.Parallel()
	var log stopLog
	l := newTestLifecycle(t.Context())
	for _, name := range []string{"storage", "recorder", "rtsp", "pull"} {
		l.add(name, log.closer(name, nil))
	}
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if got, want := log.got(), []string{"pull", "rtsp", "recorder", "storage"}; !slices.Equal(got, want) {
		t.Errorf("stopped %v, want %v", got, want)
	}
	if l.context().Err() == nil {
		t.Error("the serve context is still live after stop")
	}
}

// TestLifecycleFailedStart is runServe's shape: a part that fails to start stops what started
// before it, and its error is joined with theirs.
func TestLifecycleFailedStart(t *testing.T) {
	t.Parallel()
	var log stopLog
	errStart, errClose := errors.New("bind: address in use"), errors.New("index close failed")
	start := func() (err error) {
		l := newTestLifecycle(t.Context())
		defer func() { err = errors.Join(err, l.stop()) }()
		l.add("storage", log.closer("storage", errClose))
		l.add("recorder", log.closer("recorder", nil))
		return errStart // the next part failed: nothing more is added
	}
	err := start()
	if !errors.Is(err, errStart) || !errors.Is(err, errClose) {
		t.Errorf("error %v, want both the start and the close error", err)
	}
	if !strings.Contains(err.Error(), "stop storage: index close failed") {
		t.Errorf("error %q does not name the part that failed to stop", err)
	}
	if got, want := log.got(), []string{"recorder", "storage"}; !slices.Equal(got, want) {
		t.Errorf("stopped %v, want %v", got, want)
	}
}

// TestLifecycleRunningPartFails: a part that fails while serving ends the serve; wait returns
// its error, the other running parts see their context end, and stop waits for each.
func TestLifecycleRunningPartFails(t *testing.T) {
	t.Parallel()
	l := newTestLifecycle(t.Context())
	sawCancel := make(chan struct{})
	l.run("pull", func(ctx context.Context) error {
		<-ctx.Done()
		close(sawCancel)
		return nil
	})
	errBroken := errors.New("listener broke")
	l.run("rtsp", func(context.Context) error { return errBroken })
	err := l.wait()
	if !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "rtsp: listener broke") {
		t.Errorf("wait = %v, want the rtsp failure", err)
	}
	if err := l.stop(); err != nil {
		t.Errorf("stop = %v, want nil (wait reported the failure)", err)
	}
	select {
	case <-sawCancel:
	default:
		t.Error("stop returned before the pull part had stopped")
	}
}

// TestLifecyclePartEndsEarly: a running part that returns nil while the serve runs (a pull loop
// that gave up quietly) ends the serve with an error naming it, instead of leaving the serve
// running without it. Inside a bubble a wait that never returns is a deadlock, not a hang.
func TestLifecyclePartEndsEarly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newTestLifecycle(t.Context())
		l.run("retention", func(ctx context.Context) error { <-ctx.Done(); return nil })
		l.run("pull", func(context.Context) error { return nil })
		err := l.wait()
		if !errors.Is(err, errEnded) || !strings.Contains(err.Error(), "pull: ") {
			t.Errorf("wait = %v, want the pull part ended", err)
		}
		if err := l.stop(); err != nil {
			t.Errorf("stop = %v, want nil (wait reported the early end)", err)
		}
	})
}

// TestLifecycleSignal: the parent context ending ends wait with no error, and a server added
// when bound and run when it may serve is stopped and then closed.
func TestLifecycleSignal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	l := newTestLifecycle(ctx)
	srv := &fakeServer{}
	l.add("rtsp sockets", srv.Close)
	l.run("rtsp", srv.Run)
	cancel()
	if err := l.wait(); err != nil {
		t.Errorf("wait after signal = %v, want nil", err)
	}
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.events(), []string{"run returned", "close"}; !slices.Equal(got, want) {
		t.Errorf("server saw %v, want %v", got, want)
	}
}

// TestLifecycleAddAfterStop: a part that starts while the serve is stopping is closed at once.
func TestLifecycleAddAfterStop(t *testing.T) {
	t.Parallel()
	var log stopLog
	l := newTestLifecycle(t.Context())
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	l.add("late", log.closer("late", nil))
	if got := log.got(); !slices.Equal(got, []string{"late"}) {
		t.Errorf("stopped %v, want [late]", got)
	}
}

// fakeServer records Run's return and Close.
type fakeServer struct {
	mu  sync.Mutex
	log []string
}

func (f *fakeServer) Run(ctx context.Context) error {
	<-ctx.Done()
	f.record("run returned")
	return nil
}

func (f *fakeServer) Close() error {
	f.record("close")
	return nil
}

func (f *fakeServer) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, s)
}

func (f *fakeServer) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}
