package storage

import (
	"io/fs"
	"strings"
	"sync"
	"syscall"
)

// FaultPlan injects failures into the file operations of a Store's segment
// writers, for tests of what storage and its callers do when a disk fills
// up or fails: short writes, ENOSPC, EDQUOT, EIO, fsync errors, each at a
// chosen operation of a chosen camera. The index (bbolt) and playback reads
// are not affected. Set Config.Faults to use one; production configurations
// leave it nil and pay nothing. Rules may be added and cleared while the
// Store runs. A FaultPlan is safe for concurrent use; its zero value injects
// nothing.
type FaultPlan struct {
	// mu guards rules and seen.
	mu    sync.Mutex
	rules []*faultRule
	seen  [numFileOps]int
}

// FaultRule says which operations fail and how.
type FaultRule struct {
	// Op is the operation that fails.
	Op FileOp
	// Camera limits the rule to one camera's files and directories; ""
	// matches every camera (and the recordings directory itself).
	Camera string
	// Skip lets this many matching operations succeed before the first
	// failure: Skip 2 fails the 3rd.
	Skip int
	// Count is how many matching operations fail after Skip; 0 means every
	// one from then on.
	Count int
	// Written is, for FileWrite, how many bytes of the buffer reach the file
	// before the error: a torn write. It is capped at the buffer's length.
	Written int
	// Err is the error returned, wrapped in an *fs.PathError as the os
	// package does. Nil means syscall.EIO.
	Err error
	// Hold, when not nil, makes a matching operation wait until Hold is
	// closed and then proceed without error (a stalled disk); Err and
	// Written are ignored.
	Hold <-chan struct{}
}

type faultRule struct {
	FaultRule
	seen, failed int
}

// Add appends a rule. When several rules match an operation, the first one
// added that is due decides; every matching rule counts the operation.
func (p *FaultPlan) Add(r FaultRule) {
	if r.Err == nil {
		r.Err = syscall.EIO
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &faultRule{FaultRule: r})
}

// Clear removes every rule: operations succeed again.
func (p *FaultPlan) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Count returns how many operations of kind op the plan has seen, failed
// or not.
func (p *FaultPlan) Count(op FileOp) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op >= numFileOps {
		return 0
	}
	return p.seen[op]
}

// check counts an operation on name and returns the injected failure, if
// any, with the bytes to write first (FileWrite). An operation held by a
// rule waits here, without the plan's lock, until the rule's Hold is closed.
func (p *FaultPlan) check(op FileOp, name string) (written int, err error) {
	hit := p.match(op, name)
	switch {
	case hit == nil:
		return 0, nil
	case hit.Hold != nil:
		<-hit.Hold
		return 0, nil
	}
	return hit.Written, &fs.PathError{Op: op.String(), Path: name, Err: hit.Err}
}

// match counts an operation on name and returns the rule that is due for
// it, if any.
func (p *FaultPlan) match(op FileOp, name string) *FaultRule {
	camera := cameraOfPath(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if op < numFileOps {
		p.seen[op]++
	}
	var hit *faultRule
	for _, r := range p.rules {
		if r.Op != op || r.Camera != "" && r.Camera != camera {
			continue
		}
		r.seen++
		if hit == nil && r.seen > r.Skip && (r.Count == 0 || r.failed < r.Count) {
			hit = r
		}
	}
	if hit == nil {
		return nil
	}
	hit.failed++
	return &hit.FaultRule
}

// cameraOfPath returns the camera of a path under recordings/, or "".
func cameraOfPath(name string) string {
	rest, ok := strings.CutPrefix(name, recordingsDir+"/")
	if !ok {
		return ""
	}
	camera, _, _ := strings.Cut(rest, "/")
	return camera
}

// faultFS is a fileSystem whose operations consult a FaultPlan first.
type faultFS struct {
	inner fileSystem
	plan  *FaultPlan
}

func (f faultFS) mkdir(name string) error {
	if _, err := f.plan.check(FileMkdir, name); err != nil {
		return err
	}
	return f.inner.mkdir(name)
}

func (f faultFS) create(name string) (segmentFile, error) {
	if _, err := f.plan.check(FileCreate, name); err != nil {
		return nil, err
	}
	file, err := f.inner.create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{inner: file, name: name, plan: f.plan}, nil
}

func (f faultFS) syncDir(name string) error {
	if _, err := f.plan.check(FileSyncDir, name); err != nil {
		return err
	}
	return f.inner.syncDir(name)
}

func (f faultFS) remove(name string) error { return f.inner.remove(name) }

// faultFile is a segmentFile whose operations consult a FaultPlan first.
type faultFile struct {
	inner segmentFile
	name  string
	plan  *FaultPlan
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	written, err := f.plan.check(FileWrite, f.name)
	if err == nil {
		return f.inner.WriteAt(p, off)
	}
	n := min(max(written, 0), len(p))
	if n > 0 {
		if _, werr := f.inner.WriteAt(p[:n], off); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

func (f *faultFile) Truncate(size int64) error {
	if _, err := f.plan.check(FileTruncate, f.name); err != nil {
		return err
	}
	return f.inner.Truncate(size)
}

func (f *faultFile) Datasync() error {
	if _, err := f.plan.check(FileDatasync, f.name); err != nil {
		return err
	}
	return f.inner.Datasync()
}

func (f *faultFile) Sync() error {
	if _, err := f.plan.check(FileSync, f.name); err != nil {
		return err
	}
	return f.inner.Sync()
}

func (f *faultFile) Close() error { return f.inner.Close() }
