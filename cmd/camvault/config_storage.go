package main

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/storage"
)

type storageConfig struct {
	Sync         string   `yaml:"sync"` // fragment | segment | none
	WriteQueue   int      `yaml:"write_queue"`
	IndexTimeout Duration `yaml:"index_timeout"`
	ReadFiles    int      `yaml:"read_files"`
	ReadIdle     Duration `yaml:"read_idle"`
	IndexReserve Size     `yaml:"index_reserve"`
	ReclaimMin   Size     `yaml:"reclaim_min"`
	ReportPaths  int      `yaml:"report_paths"`
}

func defaultStorageConfig() storageConfig {
	return storageConfig{
		Sync:         storage.DefaultSync.String(),
		WriteQueue:   storage.DefaultWriteQueue,
		IndexTimeout: Duration(storage.DefaultIndexTimeout),
		ReadFiles:    storage.DefaultReadFiles,
		ReadIdle:     Duration(storage.DefaultReadIdle),
		IndexReserve: storage.DefaultIndexReserve,
		ReclaimMin:   storage.DefaultReclaimMin,
		ReportPaths:  storage.DefaultReportPaths,
	}
}

func (s *storageConfig) validate(v *validator) {
	v.oneOf("storage.sync", s.Sync, "fragment", "segment", "none")
	v.count("storage.write_queue", s.WriteQueue, 1, 1<<20)
	v.duration("storage.index_timeout", s.IndexTimeout, minTimeout, time.Hour)
	v.count("storage.read_files", s.ReadFiles, 1, 1<<16)
	v.duration("storage.read_idle", s.ReadIdle, time.Second, 24*time.Hour)
	v.size("storage.index_reserve", s.IndexReserve, 1<<20, 1<<30)
	v.size("storage.reclaim_min", s.ReclaimMin, 64<<10, 1<<30)
	v.count("storage.report_paths", s.ReportPaths, 1, 1<<20)
}

// storageConfig is the disk and index section (feeds storage.Config).

func (c *fileConfig) storageConfig(log *slog.Logger) storage.Config {
	sync, _ := storage.ParseSyncPolicy(c.Storage.Sync) // validated with the file
	return storage.Config{Dir: c.DataDir, Sync: sync, WriteQueue: c.Storage.WriteQueue,
		IndexTimeout: time.Duration(c.Storage.IndexTimeout), ReadFiles: c.Storage.ReadFiles,
		ReadIdle: time.Duration(c.Storage.ReadIdle), IndexReserve: int64(c.Storage.IndexReserve),
		ReclaimMin: int64(c.Storage.ReclaimMin), ReportPaths: c.Storage.ReportPaths, Logger: log}
}

// defaultStorageConfig returns the section's defaults: storage's.
