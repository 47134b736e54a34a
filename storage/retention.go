package storage

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RetentionPolicy is one camera's rules. Zero fields mean "no limit".
type RetentionPolicy struct {
	// MaxAge deletes a sealed segment once its end is older than MaxAge.
	MaxAge time.Duration
	// MinAge protects every segment whose end is younger than MinAge from
	// every rule: MaxAge, MaxBytes, and the free-space floor and Reclaim
	// unless Retention.PressureIgnoresMinAge.
	MinAge time.Duration
	// MaxBytes bounds the bytes of the camera's segments (open ones
	// included); the oldest sealed ones go first.
	MaxBytes int64
	// Holds are protected spans: a segment overlapping one survives every
	// rule.
	Holds []Hold
	// UploadedMaxAge deletes the local copy of a sealed segment whose object
	// is in the object store (UploadDone) once its end is older than
	// UploadedMaxAge; only with Retention.Tiered. The object's own retention
	// is package tier's.
	UploadedMaxAge time.Duration
}

// Hold protects the recordings of [From, To) from retention. A zero From
// reaches back to the first recording, a zero To has no end.
type Hold struct {
	From, To time.Time
	Reason   string
}

// Retention is the whole store's policy.
type Retention struct {
	// Default is the policy of cameras without an entry in Cameras.
	Default RetentionPolicy
	// Cameras is the complete policy of each listed camera; the caller
	// merges defaults into it.
	Cameras map[string]RetentionPolicy
	// MinFreeBytes is a floor of free bytes on the data directory's file
	// system (0: none).
	MinFreeBytes int64
	// MinFreePercent is the floor as a percent of the file system's size
	// (0: none). With both, the larger floor holds.
	MinFreePercent float64
	// PressureIgnoresMinAge lets the free-space floor and Reclaim delete
	// segments younger than MinAge (never held or open ones). Defaults to
	// false.
	PressureIgnoresMinAge bool
	// BatchSize is how many segments one index transaction deletes before
	// their files are removed. Defaults to 256.
	BatchSize int
	// Tiered says sealed segments are uploaded to an object store (package
	// tier). MaxAge and MaxBytes then never delete a segment that is not
	// uploaded yet (UploadNone); the free-space floor and Reclaim still do
	// (a full disk stops every camera), and RetentionReport.NotUploaded
	// counts those. UploadedMaxAge applies only when Tiered.
	Tiered bool
}

// Validate reports a policy that cannot be meant: a negative limit, a
// percent outside [0, 100), a hold that ends before it starts, or a camera
// name that fails ValidCamera.
func (r *Retention) Validate() error {
	if err := r.Default.validate(); err != nil {
		return fmt.Errorf("storage: retention default: %w", err)
	}
	for _, cam := range slices.Sorted(maps.Keys(r.Cameras)) {
		if err := ValidCamera(cam); err != nil {
			return fmt.Errorf("storage: retention camera: %w", err)
		}
		p := r.Cameras[cam]
		if err := p.validate(); err != nil {
			return fmt.Errorf("storage: retention camera %s: %w", cam, err)
		}
	}
	switch {
	case r.MinFreeBytes < 0:
		return fmt.Errorf("storage: retention min free bytes %d is negative", r.MinFreeBytes)
	case !(r.MinFreePercent >= 0 && r.MinFreePercent < 100):
		return fmt.Errorf("storage: retention min free percent %v not in [0, 100)", r.MinFreePercent)
	case r.BatchSize < 0:
		return fmt.Errorf("storage: retention batch size %d is negative", r.BatchSize)
	}
	return nil
}

func (p *RetentionPolicy) validate() error {
	switch {
	case p.MaxAge < 0:
		return fmt.Errorf("max age %v is negative", p.MaxAge)
	case p.MinAge < 0:
		return fmt.Errorf("min age %v is negative", p.MinAge)
	case p.MaxBytes < 0:
		return fmt.Errorf("max bytes %d is negative", p.MaxBytes)
	case p.UploadedMaxAge < 0:
		return fmt.Errorf("uploaded max age %v is negative", p.UploadedMaxAge)
	}
	for i, h := range p.Holds {
		if !h.From.IsZero() && !h.To.IsZero() && h.To.Before(h.From) {
			return fmt.Errorf("hold %d (%s) ends before it starts", i, h.Reason)
		}
	}
	return nil
}

// policy returns camera's policy.
func (r *Retention) policy(camera []byte) RetentionPolicy {
	if p, ok := r.Cameras[string(camera)]; ok {
		return p
	}
	return r.Default
}

// floor returns the free-space floor in bytes for a file system of total
// bytes; 0 means none.
func (r *Retention) floor(total int64) int64 {
	return max(r.MinFreeBytes, int64(float64(total)*r.MinFreePercent/100))
}

// clone returns a deep copy with defaults applied; SetRetention stores it,
// so a caller's later changes to its maps and slices do not leak in.
func (r *Retention) clone() *Retention {
	c := *r
	c.Default.Holds = slices.Clone(r.Default.Holds)
	c.Cameras = make(map[string]RetentionPolicy, len(r.Cameras))
	for cam, p := range r.Cameras {
		p.Holds = slices.Clone(p.Holds)
		c.Cameras[cam] = p
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultRetentionBatchSize
	}
	return &c
}

// retentionState is a Store's retention policy and pass lock.
type retentionState struct {
	// pass serializes passes (RunRetention, Reclaim), so two never plan the
	// same segments, and lets Close wait for the one running.
	pass sync.Mutex

	// mu guards policy; a stored policy is never modified, only replaced.
	mu     sync.Mutex
	policy *Retention
}

// current returns the policy in force (never nil; do not modify it).
func (rs *retentionState) current() *Retention {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.policy == nil {
		rs.policy = (&Retention{}).clone()
	}
	return rs.policy
}

// SetRetention replaces the retention policy; the next pass uses it, and a
// pass under way checks new holds before each batch. It copies r, does not
// validate it (call Validate first: negative limits act as none) and is
// safe to call concurrently with everything, as a config reload does. A
// new Store deletes nothing until it is called.
func (s *Store) SetRetention(r Retention) {
	c := r.clone()
	s.ret.mu.Lock()
	defer s.ret.mu.Unlock()
	s.ret.policy = c
}

// Retention returns a copy of the policy in force, with BatchSize's default
// filled in.
func (s *Store) Retention() Retention {
	return *s.ret.current().clone()
}

// Deletion is one segment that retention deleted, or would delete in a dry
// run.
type Deletion struct {
	Camera     string
	Start, End time.Time
	// File is the segment's path relative to the data directory.
	File string
	// Bytes is the segment's size from the index.
	Bytes  int64
	Reason DeleteReason
	// NotUploaded reports that the segment was deleted before its upload
	// (only the free-space floor and Reclaim do that, under Tiered).
	NotUploaded bool
}

// RetentionReport says what a pass deleted (or would delete).
type RetentionReport struct {
	// Deleted lists the deleted segments in the order they went: the
	// per-camera rules first, then the free-space floor oldest first
	// across cameras.
	Deleted []Deletion
	// Bytes is the total of Deleted's Bytes.
	Bytes int64
	// NotUploaded counts the deletions that lost a segment the object
	// store never got (Deletion.NotUploaded).
	NotUploaded int
	// Unmet is non-empty when the free-space floor (or Reclaim's need) was
	// not met, and says why (held, young and open segments left).
	Unmet string
	// FileErrors counts files whose removal failed; their index entries
	// are already gone, so the files are orphans that check reports.
	FileErrors int
	// Batches counts the index transactions of a real pass.
	Batches int
	// Took is the pass's wall-clock duration.
	Took time.Duration
}

func (r *RetentionReport) add(d Deletion) {
	r.Deleted = append(r.Deleted, d)
	r.Bytes += d.Bytes
	if d.NotUploaded {
		r.NotUploaded++
	}
}

// RunRetention applies the policy at time now: per camera MaxAge, then
// MaxBytes, then the free-space floor, which deletes the oldest deletable
// sealed segments across all cameras until Config.FreeSpace (read again
// between batches) reports the floor met. Open segments, held ones, ones
// younger than MinAge and entries it cannot decode are never deleted, and
// only files the index lists are removed. With dryRun it deletes nothing
// and reports what a real pass would delete. Real passes run one at a
// time; the index is never written while files are removed. A dry run
// plans in a read transaction without waiting for, or holding up, a real
// pass or a writer's Reclaim (so the API may ask for one at any rate),
// and logs at Debug. It returns ErrClosed after Close, and an error when
// the index or, with a floor set, Config.FreeSpace fails.
func (s *Store) RunRetention(now time.Time, dryRun bool) (RetentionReport, error) {
	begin := time.Now()
	var pol *Retention
	if dryRun {
		if s.isClosed() {
			return RetentionReport{}, ErrClosed
		}
		pol = s.ret.current()
	} else {
		var err error
		if pol, err = s.startPass(); err != nil {
			return RetentionReport{}, err
		}
		defer s.ret.pass.Unlock()
	}
	p := newPlanner(s, pol, now)
	var free, floor int64
	if pol.MinFreeBytes > 0 || pol.MinFreePercent > 0 {
		f, total, err := s.cfg.FreeSpace()
		if err != nil {
			return RetentionReport{}, fmt.Errorf("storage: retention: free space: %w", err)
		}
		free, floor = f, pol.floor(total)
	}
	err := s.view(func(tx *bolt.Tx) error {
		p.cameraRules(tx)
		p.minFreeFrom = len(p.dels)
		if need := floor - free - p.bytes; need > 0 {
			p.pressure(tx, need, ReasonMinFree)
		}
		return nil
	})
	if err != nil {
		return RetentionReport{}, fmt.Errorf("storage: retention: read index: %w", err)
	}
	if p.unmet != "" {
		p.unmet = fmt.Sprintf("free space %s plus %s to delete stays below the floor %s: %s",
			iecBytes(free), iecBytes(p.bytes), iecBytes(floor), p.unmet)
	}
	rep, err := s.applyPlan(p, pol, dryRun, floor)
	rep.Took = time.Since(begin)
	s.logPass(&rep, p, dryRun)
	if !dryRun {
		s.ensureReserve() // after a full disk released it
	}
	return rep, err
}

// Reclaim deletes the oldest deletable sealed segments across cameras until
// at least need bytes (by the index) are freed, for a write that found the
// disk full. It respects holds, open segments and MinAge (unless
// PressureIgnoresMinAge); its deletions have ReasonReclaim. Unmet says why
// when less than need could go. Errors are as RunRetention's.
func (s *Store) Reclaim(now time.Time, need int64) (RetentionReport, error) {
	begin := time.Now()
	pol, err := s.startPass()
	if err != nil {
		return RetentionReport{}, err
	}
	defer s.ret.pass.Unlock()
	return s.reclaimLocked(now, need, pol, begin)
}

// reclaimLocked is Reclaim with the pass lock held.
func (s *Store) reclaimLocked(now time.Time, need int64, pol *Retention, begin time.Time) (RetentionReport, error) {
	if need <= 0 {
		return RetentionReport{}, nil
	}
	p := newPlanner(s, pol, now)
	err := s.db.View(func(tx *bolt.Tx) error {
		p.pressure(tx, need, ReasonReclaim)
		return nil
	})
	if err != nil {
		return RetentionReport{}, fmt.Errorf("storage: reclaim: read index: %w", err)
	}
	rep, err := s.applyPlan(p, pol, false, 0)
	if err == nil && rep.Bytes < need && rep.Unmet == "" {
		rep.Unmet = "index entries changed during the pass"
	}
	if rep.Unmet != "" {
		rep.Unmet = fmt.Sprintf("freed %s of %s needed: %s", iecBytes(rep.Bytes), iecBytes(need), rep.Unmet)
	}
	rep.Took = time.Since(begin)
	s.logPass(&rep, p, false)
	return rep, err
}

// startPass takes the pass lock and returns the policy in force; the
// caller unlocks s.ret.pass. After Close it returns ErrClosed, unlocked.
func (s *Store) startPass() (*Retention, error) {
	s.ret.pass.Lock()
	if s.isClosed() {
		s.ret.pass.Unlock()
		return nil, ErrClosed
	}
	return s.ret.current(), nil
}

// reclaimWait bounds how long a writer that found the disk full waits for
// a retention pass in progress before it gives up (the recording then
// retries later). The bound also breaks any wait cycle between a writer, a
// pass and a Seal blocked on that writer's full queue.
const reclaimWait = 2 * time.Second

// reclaimForWriter is the default Config.Reclaim: Reclaim by the policy in
// force, called on the writer goroutine of a write that found the disk full.
func (s *Store) reclaimForWriter(need int64) (freed int64) {
	begin := time.Now()
	for !s.ret.pass.TryLock() {
		if time.Since(begin) > reclaimWait || s.isClosed() {
			s.log.Warn("disk full; a retention pass is busy, no space reclaimed", "need", need)
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer s.ret.pass.Unlock()
	s.ret.mu.Lock()
	pol := s.ret.policy
	s.ret.mu.Unlock()
	if pol == nil || s.isClosed() {
		return 0 // no policy set: nothing may be deleted
	}
	s.reserveMu.Lock()
	if !s.reserved && s.cfg.IndexReserve > 0 {
		need += s.cfg.IndexReserve // room to put the index reserve back too
	}
	s.reserveMu.Unlock()
	rep, err := s.reclaimLocked(time.Now(), need, pol, begin)
	if err != nil {
		s.log.Error("disk full; reclaim failed", "err", err)
	}
	s.ensureReserve()
	return rep.Bytes
}

// isClosed reports whether Close has begun.
func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}
