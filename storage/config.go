package storage

import (
	"fmt"
	"log/slog"
	"time"
)

// SyncPolicy says when written data is forced to stable storage.
type SyncPolicy uint8

const (
	// SyncFragment fsyncs every fragment after it is written: a power loss
	// loses at most the fragment being written.
	SyncFragment SyncPolicy = iota
	// SyncSegment fsyncs a segment file when it is sealed: a power loss may
	// lose what the page cache held of the open segment; a process crash
	// loses at most one fragment.
	SyncSegment
	// SyncNone never fsyncs segment files (the index still commits durably).
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
	// Sync is the fsync policy for segment files. Defaults to SyncFragment.
	Sync SyncPolicy
	// WriteQueue is how many operations (fragments, creates, seals) may wait
	// per writer before Append reports ErrQueueFull. Defaults to 1024.
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
}

func (c *Config) setDefaults() {
	if c.WriteQueue <= 0 {
		c.WriteQueue = 1024
	}
	if c.Writers <= 0 {
		c.Writers = 4
	}
	if c.IndexTimeout <= 0 {
		c.IndexTimeout = 5 * time.Second
	}
	if c.ReadFiles <= 0 {
		c.ReadFiles = 64
	}
	if c.ReadIdle <= 0 {
		c.ReadIdle = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
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
