package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/camvault/camvault/storage"
)

// retention converts the retention section and the cameras' overrides to
// the store's policy. A camera with overrides gets the defaults merged in.
func (c *fileConfig) retention() storage.Retention {
	r := c.Retention
	def := storage.RetentionPolicy{MaxAge: time.Duration(r.MaxAge), MinAge: time.Duration(r.MinAge),
		MaxBytes: int64(r.MaxBytes), UploadedMaxAge: r.UploadedMaxAge}
	out := storage.Retention{Default: def, MinFreeBytes: r.MinFree.Bytes, MinFreePercent: r.MinFree.Percent,
		PressureIgnoresMinAge: r.PressureIgnoresMinAge, BatchSize: r.BatchSize, Tiered: c.Tier.Enabled()}
	for _, name := range slices.Sorted(maps.Keys(c.Cameras)) {
		o := c.Cameras[name].Retention
		if o == nil {
			continue
		}
		p := def
		if o.MaxAge != nil {
			p.MaxAge = time.Duration(*o.MaxAge)
		}
		if o.MinAge != nil {
			p.MinAge = time.Duration(*o.MinAge)
		}
		if o.MaxBytes != nil {
			p.MaxBytes = int64(*o.MaxBytes)
		}
		for _, h := range o.Hold {
			from, to, _ := h.span() // validated with the file
			p.Holds = append(p.Holds, storage.Hold{From: from, To: to, Reason: h.Reason})
		}
		if out.Cameras == nil {
			out.Cameras = make(map[string]storage.RetentionPolicy)
		}
		out.Cameras[name] = p
	}
	return out
}

// retentionLoop runs a retention pass at once and then every interval until ctx is done; the
// store logs each pass that deletes or falls short. It runs as a lifecycle part.
func retentionLoop(store *storage.Store, interval time.Duration, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if _, err := store.RunRetention(time.Now(), false); err != nil {
				log.Error("retention pass failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}

// runRetention is `camvault retention [-dry-run]`: one pass on a stopped
// data directory, printing every segment that goes (or would go) and why.
func runRetention(args []string, stdout, stderr io.Writer) error {
	var dryRun bool
	cfg, err := parseConfigFlags("retention", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "print what would be deleted, delete nothing")
	})
	if err != nil {
		return err
	}
	store, err := storage.Open(cfg.storageConfig(newLogger(cfg.Log, stderr)))
	if err != nil {
		return err
	}
	defer store.Close()
	store.SetRetention(cfg.retention())
	rep, err := store.RunRetention(time.Now(), dryRun)
	if err != nil {
		return err
	}
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	for _, d := range rep.Deleted {
		fmt.Fprintf(stdout, "%s %s %s .. %s %s %d bytes (%s)\n", verb, d.Camera, d.Start.Format(time.RFC3339),
			d.End.Format(time.RFC3339), d.File, d.Bytes, d.Reason)
	}
	fmt.Fprintf(stdout, "%s %d segments, %d bytes in %v\n", verb, len(rep.Deleted), rep.Bytes, rep.Took.Round(time.Millisecond))
	if rep.Unmet != "" {
		fmt.Fprintln(stdout, "free-space floor not met:", rep.Unmet)
	}
	if rep.FileErrors > 0 {
		fmt.Fprintf(stdout, "%d files could not be removed (their index entries are gone; `camvault check` lists them)\n", rep.FileErrors)
	}
	return nil
}
