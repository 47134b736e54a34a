package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// lifecycle runs the parts of `camvault serve`. Parts are started in order by the caller, which
// records a closer for each one as soon as it has started (add), or hands over a part that
// runs until its context ends (run). stop closes them in reverse order, each once:
// runServe defers it, so a failed start stops exactly what had started, and it runs after a
// signal (the parent context ends) or when a part fails while serving (wait returns then).
//
// A later listener plugs in with two lines: l.add(name, srv.Close) once it is bound and
// l.run(name, srv.Run) once it may serve; l.run(name, fn) alone for a loop, l.add(name, close)
// alone for something that only needs closing.
type lifecycle struct {
	log *slog.Logger
	// ctx is the serve's lifetime: done on signal or when a running part fails. Every part
	// that takes a context gets it or one derived from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// guarded by mu:
	parts   []part // started, in start order
	stopped bool   // stop has taken the parts
	failed  []error
}

// part is one started part and how to stop it.
type part struct {
	name string
	stop func() error
}

// newLifecycle returns a lifecycle whose parts live until ctx is done.
func newLifecycle(ctx context.Context, log *slog.Logger) *lifecycle {
	ctx, cancel := context.WithCancel(ctx)
	return &lifecycle{log: log, ctx: ctx, cancel: cancel}
}

// context returns the serve's lifetime context.
func (l *lifecycle) context() context.Context { return l.ctx }

// add records the closer of a part that has started. A part added after stop is closed at once.
func (l *lifecycle) add(name string, stop func() error) {
	l.mu.Lock()
	if !l.stopped {
		l.parts = append(l.parts, part{name: name, stop: stop})
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	if err := stop(); err != nil {
		l.log.Error("stop failed", "part", name, "err", err)
	}
}

// addFunc records a closer that cannot fail.
func (l *lifecycle) addFunc(name string, stop func()) {
	l.add(name, func() error { stop(); return nil })
}

// run runs fn in a goroutine with a context that ends on stop (or with the serve). When fn
// returns before that, with an error or without one, the serve ends: wait returns the error (or
// errEnded), since a part that quietly stops would leave the serve running without it. The
// closer cancels fn's context and waits for fn to return.
func (l *lifecycle) run(name string, fn func(ctx context.Context) error) {
	l.add(name, l.start(name, fn))
}

// runOwn is run for a part that must outlive the serve's context: its context ends only at
// its own stop, in reverse order of start like every part's closer, not when the serve begins
// to stop. The cluster membership uses it, so that recordings closing before it still close
// as the camera's owner.
func (l *lifecycle) runOwn(name string, fn func(ctx context.Context) error) {
	l.add(name, l.startIn(context.WithoutCancel(l.ctx), name, fn))
}

// errEnded is the failure of a running part that returned nil while the serve still ran.
var errEnded = errors.New("ended while the serve was running")

// start runs fn in a goroutine and returns its closer.
func (l *lifecycle) start(name string, fn func(ctx context.Context) error) (stop func() error) {
	return l.startIn(l.ctx, name, fn)
}

// startIn is start with fn's context derived from parent.
func (l *lifecycle) startIn(parent context.Context, name string, fn func(ctx context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan error, 1)
	go func() {
		err := fn(ctx)
		if ctx.Err() == nil && l.ctx.Err() == nil {
			if err == nil {
				err = errEnded
			}
			l.fail(fmt.Errorf("%s: %w", name, err))
			err = nil // reported by wait, not again by stop
		}
		done <- err
	}()
	return func() error {
		cancel()
		return <-done
	}
}

// fail records a part's failure and ends the serve.
func (l *lifecycle) fail(err error) {
	l.mu.Lock()
	l.failed = append(l.failed, err)
	l.mu.Unlock()
	l.cancel()
}

// wait blocks until the serve ends (its parent context is done, or a part failed) and returns
// the parts' failures joined; nil after a signal. The caller then stops the parts.
func (l *lifecycle) wait() error {
	<-l.ctx.Done()
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.failed...)
}

// stop closes every recorded part in reverse start order, each once, and returns their errors
// joined, each naming its part. Later calls return nil; a part added later is closed by add.
func (l *lifecycle) stop() error {
	l.cancel()
	l.mu.Lock()
	parts := l.parts
	l.parts, l.stopped = nil, true
	l.mu.Unlock()
	var errs []error
	for _, p := range slices.Backward(parts) {
		if err := p.stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}
