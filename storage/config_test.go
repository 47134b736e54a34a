package storage

import (
	"reflect"
	"testing"
)

// TestConfigDefaults: a zero Config takes the exported defaults, which camvault's documented
// configuration file states (cmd/camvault TestDocumentedConfigIsDefault).
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Dir: t.TempDir()}
	c.setDefaults()
	c.Logger, c.FreeSpace = nil, nil
	want := Config{Dir: c.Dir, Sync: DefaultSync, WriteQueue: DefaultWriteQueue, Writers: DefaultWriters,
		IndexTimeout: DefaultIndexTimeout, ReadFiles: DefaultReadFiles, ReadIdle: DefaultReadIdle,
		ReportPaths: DefaultReportPaths, ReclaimMin: DefaultReclaimMin, IndexReserve: DefaultIndexReserve,
		MaxHolds: DefaultMaxHolds, MaxHoldsPerCamera: DefaultMaxHoldsPerCamera, MaxHoldDuration: DefaultMaxHoldDuration,
		UsageMaxAge: DefaultUsageMaxAge, MaxSummaryBuckets: DefaultMaxSummaryBuckets, ReadyProbeInterval: DefaultReadyProbeInterval}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("zero Config defaults to\n%+v\nwant\n%+v", c, want)
	}
	if got := (&Retention{}).clone().BatchSize; got != DefaultRetentionBatchSize {
		t.Errorf("zero Retention.BatchSize defaults to %d, want %d", got, DefaultRetentionBatchSize)
	}
}
