package storage

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/camvault/camvault/internal/settings"
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

// MarshalText implements encoding.TextMarshaler with the config name.
func (p SyncPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the config names.
func (p *SyncPolicy) UnmarshalText(b []byte) error {
	v, err := ParseSyncPolicy(string(b))
	if err != nil {
		return fmt.Errorf("must be one of fragment, segment, none, got %q", b)
	}
	*p = v
	return nil
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

// Config configures a Store. The yaml tags are the keys of camvault's
// storage section (package settings); Dir is its data_dir.
type Config struct {
	// Dir is the data directory; recordings and index.db live in it.
	// Required.
	Dir string `yaml:"-"`
	// Sync is the fsync policy for segment files and the index. Defaults
	// to SyncFragment.
	Sync SyncPolicy `yaml:"sync"`
	// WriteQueue is how many operations (fragments, creates, seals) may wait
	// per writer before Append reports ErrQueueFull (and AppendWait waits).
	// Defaults to 1024.
	WriteQueue int `yaml:"write_queue"`
	// Writers is the number of writer goroutines; a segment always uses the
	// same one. Defaults to 4.
	Writers int `yaml:"-"`
	// IndexTimeout bounds the wait for the index file lock at Open.
	// Defaults to 5s.
	IndexTimeout time.Duration `yaml:"index_timeout"`
	// ReadFiles is how many segment files ReadInit and ReadFragment keep
	// open for playback; the least recently used beyond it is closed.
	// Defaults to 64.
	ReadFiles int `yaml:"read_files"`
	// ReadIdle is how long a file kept open for playback may go unread
	// before it is closed. Defaults to 30s.
	ReadIdle time.Duration `yaml:"read_idle"`
	// ReportPaths caps each path list of the StartupReport (repaired, torn,
	// missing, adopted, unreadable); the rest is counted. Defaults to 1000.
	ReportPaths int `yaml:"report_paths"`
	// Logger receives storage events. Nil discards them.
	Logger *slog.Logger `yaml:"-"`

	// FreeSpace reports the free bytes (available to unprivileged users)
	// and the total bytes of the file system that holds Dir; retention's
	// free-space floor reads it. Defaults to statfs(2) on Dir; tests inject
	// a model of the file system.
	FreeSpace func() (free, total int64, err error) `yaml:"-"`
	// Reclaim is called by a writer when a write fails for lack of space
	// (ENOSPC, EDQUOT). It should delete at least need bytes of old
	// recordings (by retention policy) and return how many bytes it freed;
	// when that is more than zero the write is retried once. It runs on the
	// writer goroutine of the failing camera, so it must not wait for a
	// segment (Seal, Done, WaitFragments). Nil means the store's own
	// Reclaim under the policy set with SetRetention (none until then: the
	// segment fails with ErrNoSpace).
	Reclaim func(need int64) (freed int64) `yaml:"-"`
	// ReclaimMin is the least space Reclaim is asked for: need is the
	// larger of ReclaimMin and 8 times the failed write, so that one call
	// makes room for several fragments. Defaults to 4 MiB.
	ReclaimMin int64 `yaml:"reclaim_min" unit:"bytes"`
	// IndexReserve is how many bytes a reserve file beside index.db holds
	// back, so that on a full file system the index can still commit the
	// deletions that free space (bbolt writes new pages even to delete).
	// Defaults to 8 MiB; negative disables it.
	IndexReserve int64 `yaml:"index_reserve" unit:"bytes"`
	// MaxHolds bounds the holds stored with AddHold (all cameras); one more
	// gets ErrTooManyHolds. Defaults to 10000.
	MaxHolds int `yaml:"max_holds"`
	// MaxHoldsPerCamera bounds the holds stored with AddHold for one
	// camera, so that users of one camera cannot use up MaxHolds. Defaults
	// to 100.
	MaxHoldsPerCamera int `yaml:"max_holds_per_camera"`
	// MaxHoldDuration bounds the span [From, To) of a hold AddHold
	// accepts: held recordings survive even the free-space floor, so a
	// hold over all time could fill the disk and stop every camera.
	// Defaults to 31 days (a month of evidence).
	MaxHoldDuration time.Duration `yaml:"max_hold_duration"`
	// UsageMaxAge is how long Usage reuses its last answer, so that
	// frequent /storage calls do not each read every index entry of every
	// camera; the answer is that much behind the recordings. Defaults to
	// 5s.
	UsageMaxAge time.Duration `yaml:"usage_max_age"`
	// MaxSummaryBuckets bounds the buckets one Summaries call answers (a
	// leap year of hours is 8784). Defaults to 10000.
	MaxSummaryBuckets int `yaml:"max_summary_buckets"`
	// ReadyProbeInterval is how long Ready reuses the result of its index
	// write probe. Defaults to 10s.
	ReadyProbeInterval time.Duration `yaml:"ready_probe_interval"`
	// Observer is told about every fragment written, on the writer
	// goroutine. Nil means none.
	Observer Observer `yaml:"-"`
	// Faults injects file-layer failures, for tests. Nil in production.
	Faults *FaultPlan `yaml:"-"`
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
	// DefaultMaxHolds is Config.MaxHolds's default.
	DefaultMaxHolds = 10000
	// DefaultMaxHoldsPerCamera is Config.MaxHoldsPerCamera's default.
	DefaultMaxHoldsPerCamera = 100
	// DefaultMaxHoldDuration is Config.MaxHoldDuration's default.
	DefaultMaxHoldDuration = 31 * 24 * time.Hour
	// DefaultUsageMaxAge is Config.UsageMaxAge's default.
	DefaultUsageMaxAge = 5 * time.Second
	// DefaultMaxSummaryBuckets is Config.MaxSummaryBuckets's default.
	DefaultMaxSummaryBuckets = 10000
	// DefaultReadyProbeInterval is Config.ReadyProbeInterval's default.
	DefaultReadyProbeInterval = 10 * time.Second
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
	positive(&c.MaxHolds, DefaultMaxHolds)
	positive(&c.MaxHoldsPerCamera, DefaultMaxHoldsPerCamera)
	positive(&c.MaxHoldDuration, DefaultMaxHoldDuration)
	positive(&c.UsageMaxAge, DefaultUsageMaxAge)
	positive(&c.MaxSummaryBuckets, DefaultMaxSummaryBuckets)
	positive(&c.ReadyProbeInterval, DefaultReadyProbeInterval)
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

// DefaultConfig returns the default of every setting with a yaml tag.
func DefaultConfig() Config {
	c := Config{Dir: "."}
	c.setDefaults()
	c.Dir, c.Logger, c.FreeSpace = "", nil, nil
	return c
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set; a negative IndexReserve (no reserve)
// passes. Failures are *settings.FieldError named by the yaml keys. Open,
// Check and Reindex call it, and also need Dir.
func (c *Config) Validate() error {
	var v settings.Check
	if c.Sync > SyncNone {
		v.Fail("sync", "must be one of fragment, segment, none, got %v", c.Sync)
	}
	v.Count("write_queue", c.WriteQueue, 1, 1<<20)
	v.Duration("index_timeout", c.IndexTimeout, 100*time.Millisecond, time.Hour)
	v.Count("read_files", c.ReadFiles, 1, 1<<16)
	v.Duration("read_idle", c.ReadIdle, time.Second, 24*time.Hour)
	if c.IndexReserve >= 0 {
		v.Bytes("index_reserve", c.IndexReserve, 1<<20, 1<<30)
	}
	v.Bytes("reclaim_min", c.ReclaimMin, 64<<10, 1<<30)
	v.Count("report_paths", c.ReportPaths, 1, 1<<20)
	v.Count("max_holds", c.MaxHolds, 1, 1<<20)
	v.Count("max_holds_per_camera", c.MaxHoldsPerCamera, 1, 1<<20)
	v.Duration("max_hold_duration", c.MaxHoldDuration, time.Hour, 100*365*24*time.Hour)
	v.Duration("usage_max_age", c.UsageMaxAge, 100*time.Millisecond, time.Hour)
	v.Count("max_summary_buckets", c.MaxSummaryBuckets, 1, 1<<20)
	v.Duration("ready_probe_interval", c.ReadyProbeInterval, time.Second, time.Hour)
	return v.Err()
}

// check is Validate plus what code sets: the data directory.
func (c *Config) check() error {
	if c.Dir == "" {
		return fmt.Errorf("storage: data directory is required")
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("storage config: %w", err)
	}
	return nil
}
