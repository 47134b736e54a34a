package storage

import (
	"fmt"
	"log/slog"
	"time"
)

// SyncPolicy says when written data is forced to stable storage, for the
// segment files and the index alike. Every policy writes a fragment with one
// write call, so a process crash (kill -9, OOM) loses at most the fragment
// being written; the policies differ in what a power loss or kernel crash
// can take.
type SyncPolicy uint8

const (
	// SyncFragment fdatasyncs every fragment before it enters the seek
	// table, fsyncs a new file and the directories whose entries it
	// created, and commits the index durably. A power loss loses at most
	// the fragment being written.
	SyncFragment SyncPolicy = iota
	// SyncSegment fsyncs a new file and its directories, then each file
	// once more when it is sealed, before the index entry is sealed; index
	// commits are durable. A power loss may lose what the page cache held
	// of the open segments (the kernel writes dirty pages back after about
	// 30 s, so in practice that much); sealed segments are safe.
	SyncSegment
	// SyncNone never fsyncs: neither files, nor directories, nor the index
	// (bbolt NoSync). A power loss may lose any data the kernel had not yet
	// written back, including recently sealed segments, and may leave
	// index.db inconsistent; reindex rebuilds it from the files. Syncing the
	// index alone would not help: it would then describe file data that
	// never reached the disk.
	SyncNone
)

var syncNames = [...]string{SyncFragment: "fragment", SyncSegment: "segment", SyncNone: "none"}

// String returns the policy's config name.
func (p SyncPolicy) String() string {
	if int(p) < len(syncNames) {
		return syncNames[p]
	}
	return fmt.Sprintf("SyncPolicy(%d)", p)
}

// ParseSyncPolicy parses a config name ("fragment", "segment", "none").
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for i, n := range syncNames {
		if n == s {
			return SyncPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown sync policy %q (want fragment, segment or none)", s)
}

// Config configures a Store.
type Config struct {
	// Dir is the data directory; recordings and index.db live in it.
	// Required.
	Dir string
	// Sync is the fsync policy for segment files and the index. Defaults
	// to SyncFragment.
	Sync SyncPolicy
	// WriteQueue is how many operations (fragments, creates, seals) may wait
	// per writer before Append reports ErrQueueFull (and AppendWait waits).
	// Defaults to 1024.
	WriteQueue int
	// Writers is the number of writer goroutines; a segment always uses the
	// same one. Defaults to 4.
	Writers int
	// IndexTimeout bounds the wait for the index file lock at Open.
	// Defaults to 5s.
	IndexTimeout time.Duration
	// ReadFiles is how many segment files ReadInit and ReadFragment keep
	// open for playback; the least recently used beyond it is closed.
	// Defaults to 64.
	ReadFiles int
	// ReadIdle is how long a file kept open for playback may go unread
	// before it is closed. Defaults to 30s.
	ReadIdle time.Duration
	// ReportPaths caps each path list of the StartupReport (repaired, torn,
	// missing, adopted, unreadable); the rest is counted. Defaults to 1000.
	ReportPaths int
	// Logger receives storage events. Nil discards them.
	Logger *slog.Logger

	// FreeSpace reports the free bytes (available to unprivileged users)
	// and the total bytes of the file system that holds Dir; retention's
	// free-space floor reads it. Defaults to statfs(2) on Dir; tests inject
	// a model of the file system.
	FreeSpace func() (free, total int64, err error)
	// Reclaim is called by a writer when a write fails for lack of space
	// (ENOSPC, EDQUOT). It should delete at least need bytes of old
	// recordings (by retention policy) and return how many bytes it freed;
	// when that is more than zero the write is retried once. It runs on the
	// writer goroutine of the failing camera, so it must not wait for a
	// segment (Seal, Done, WaitFragments). Nil means the store's own
	// Reclaim under the policy set with SetRetention (none until then: the
	// segment fails with ErrNoSpace).
	Reclaim func(need int64) (freed int64)
	// ReclaimMin is the least space Reclaim is asked for: need is the
	// larger of ReclaimMin and 8 times the failed write, so that one call
	// makes room for several fragments. Defaults to 4 MiB.
	ReclaimMin int64
	// IndexReserve is how many bytes a reserve file beside index.db holds
	// back, so that on a full file system the index can still commit the
	// deletions that free space (bbolt writes new pages even to delete).
	// Defaults to 8 MiB; negative disables it.
	IndexReserve int64
	// Faults injects file-layer failures, for tests. Nil in production.
	Faults *FaultPlan
}

// Defaults of Config and Retention.
const (
	DefaultSync         = SyncFragment
	DefaultWriteQueue   = 1024
	DefaultWriters      = 4
	DefaultIndexTimeout = 5 * time.Second
	DefaultReadFiles    = 64
	DefaultReadIdle     = 30 * time.Second
	DefaultReportPaths  = 1000
	DefaultReclaimMin   = 4 << 20
	DefaultIndexReserve = 8 << 20
	// DefaultRetentionBatchSize is Retention.BatchSize's default.
	DefaultRetentionBatchSize = 256
)

func (c *Config) setDefaults() {
	positive(&c.WriteQueue, DefaultWriteQueue)
	positive(&c.Writers, DefaultWriters)
	positive(&c.IndexTimeout, DefaultIndexTimeout)
	positive(&c.ReadFiles, DefaultReadFiles)
	positive(&c.ReadIdle, DefaultReadIdle)
	positive(&c.ReportPaths, DefaultReportPaths)
	positive(&c.ReclaimMin, DefaultReclaimMin)
	if c.IndexReserve == 0 { // negative disables the reserve
		c.IndexReserve = DefaultIndexReserve
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.FreeSpace == nil {
		c.FreeSpace = dirFreeSpace(c.Dir)
	}
}

// positive replaces a zero or negative *v with d.
func positive[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("storage: data directory is required")
	}
	if c.Sync > SyncNone {
		return fmt.Errorf("storage: %v", c.Sync)
	}
	return nil
}
