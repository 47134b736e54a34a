package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// applyPlan carries out a plan in batches of pol.BatchSize: one index
// transaction deletes a batch's entries, then, with no transaction open,
// their files are removed. Before a batch that holds free-space floor
// deletions it reads Config.FreeSpace again and drops them once the floor
// is met. A dry run only reports the plan.
func (s *Store) applyPlan(p *planner, pol *Retention, dryRun bool, floor int64) (RetentionReport, error) {
	rep := RetentionReport{Unmet: p.unmet}
	if dryRun {
		rep.Deleted, rep.Bytes = p.dels, p.bytes
		return rep, nil
	}
	dels := p.dels
	for i := 0; i < len(dels); {
		if s.isClosed() {
			return rep, ErrClosed
		}
		j := min(i+pol.BatchSize, len(dels))
		if i > 0 && floor > 0 && j > p.minFreeFrom && s.floorMet(floor) {
			dels = dels[:max(i, p.minFreeFrom)]
			rep.Unmet = ""
			continue
		}
		gone, err := s.deleteEntries(dels[i:j], pol)
		if err != nil {
			return rep, err
		}
		rep.Batches++
		s.removeFiles(gone, &rep)
		i = j
	}
	if skipped := len(dels) - len(rep.Deleted); skipped > 0 && floor > 0 && rep.Unmet == "" && !s.floorMet(floor) {
		rep.Unmet = fmt.Sprintf("free space is below the floor %s: %d planned segments were held or changed during the pass",
			iecBytes(floor), skipped)
	}
	return rep, nil
}

// floorMet reads the free space again; a failed read counts as not met
// (the plan, made from the first read, goes on).
func (s *Store) floorMet(floor int64) bool {
	free, _, err := s.cfg.FreeSpace()
	if err != nil {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "retention free space re-read failed", slog.Any("err", err))
		return false
	}
	return free >= floor
}

// deleteEntries deletes the index entries (and seek tables) of batch in one
// transaction and returns the deletions it made, reusing batch's array.
// Entries that are gone or no longer sealed since planning are skipped,
// and so are segments that a policy set since planning holds, or a hold
// stored by the time this transaction began (read inside it).
func (s *Store) deleteEntries(batch []Deletion, planned *Retention) ([]Deletion, error) {
	cur := s.ret.current()
	var gone []Deletion
	err := s.update(func(tx *bolt.Tx) error {
		gone = batch[:0]
		stored := storedHolds(tx)
		cams := tx.Bucket(bucketCameras)
		for _, d := range batch {
			cb := cams.Bucket([]byte(d.Camera))
			if cb == nil {
				continue
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], uint64(d.Start.UnixNano()))
			h, ok := decodeSegHead(cb.Bucket(bucketSegments).Get(k[:]))
			if !ok || h.state != StateSealed || cur != planned && cur.holds(d.Camera, h) ||
				(&camRules{holds: stored[d.Camera]}).held(h) {
				continue
			}
			if err := cb.Bucket(bucketSeek).Delete(k[:]); err != nil {
				return err
			}
			if err := cb.Bucket(bucketSegments).Delete(k[:]); err != nil {
				return err
			}
			gone = append(gone, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: retention: delete index entries: %w", err)
	}
	if len(gone) > 0 {
		s.usage.invalidate()
	}
	return gone, nil
}

// holds reports whether camera's policy holds segment h.
func (r *Retention) holds(camera string, h segHead) bool {
	rules := camRules{holds: r.policy([]byte(camera)).Holds}
	return rules.held(h)
}

// removeFiles removes the files of deleted entries and adds the deletions
// to rep. A failure is counted (the first one per pass logged at Warn):
// the file stays as an orphan that check reports.
func (s *Store) removeFiles(gone []Deletion, rep *RetentionReport) {
	ctx := context.Background()
	for _, d := range gone {
		rep.add(d)
		s.log.LogAttrs(ctx, slog.LevelDebug, "segment deleted", slog.String("camera", d.Camera),
			slog.String("segment", d.File), slog.Int64("bytes", d.Bytes), slog.String("reason", d.Reason.String()))
		err := s.removeFile(d.File)
		s.countDeleted(d.Camera, d.Reason, d.Bytes) // the entry is gone either way
		if err != nil {
			rep.FileErrors++
			level := slog.LevelDebug
			if rep.FileErrors == 1 {
				level = slog.LevelWarn
			}
			s.log.LogAttrs(ctx, level, "retention could not remove segment file; its index entry is gone",
				slog.String("camera", d.Camera), slog.String("segment", d.File), slog.Any("err", err))
		}
	}
	s.removeEmptyDirs(gone)
}

// removeEmptyDirs removes the day directories of deleted segments, and then
// their camera directories, when they are empty (rmdir refuses a non-empty
// one) and no open segment lives in them; a day directory with an open
// segment is removed when that segment leaves (removeOpen). s.mu is held so
// that no segment is created meanwhile: its writer could make the directory
// just before it goes.
func (s *Store) removeEmptyDirs(gone []Deletion) {
	var days []string
	for _, d := range gone {
		if day := path.Dir(d.File); !slices.Contains(days, day) {
			days = append(days, day)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, day := range days {
		if s.dirBusyLocked(day) {
			s.emptyLater[day] = true
			continue
		}
		s.removeDayLocked(day)
	}
}

// removeDayLocked removes the day directory and then its camera directory when
// each is empty and no open segment lives in the camera's; s.mu must be held.
func (s *Store) removeDayLocked(day string) {
	if !s.removeDir(day) {
		return
	}
	if cam := path.Dir(day); !s.dirBusyLocked(cam) {
		s.removeDir(cam)
	}
}

// dirBusyLocked reports whether an open segment's file is under dir; s.mu
// must be held.
func (s *Store) dirBusyLocked(dir string) bool {
	for seg := range s.open {
		if strings.HasPrefix(seg.file, dir+"/") {
			return true
		}
	}
	return false
}

// removeDir removes dir if it is empty and reports whether it did. Only an
// unexpected failure is logged (Debug: it is best effort).
func (s *Store) removeDir(dir string) bool {
	err := s.root.Remove(dir)
	if err != nil && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) &&
		!errors.Is(err, fs.ErrNotExist) {
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "retention could not remove directory",
			slog.String("path", dir), slog.Any("err", err))
	}
	return err == nil
}

// logPass logs one line per pass: Info when it deleted or fell short,
// Debug when it had nothing to do and for every dry run (one per API
// request); and one Warn when a real pass left Unmet.
func (s *Store) logPass(rep *RetentionReport, p *planner, dryRun bool) {
	var n [numReasons]int
	for i := range rep.Deleted {
		n[rep.Deleted[i].Reason]++
	}
	level := slog.LevelDebug
	if !dryRun && (len(rep.Deleted) > 0 || rep.Unmet != "") {
		level = slog.LevelInfo
	}
	ctx := context.Background()
	s.log.LogAttrs(ctx, level, "retention pass", slog.Bool("dry_run", dryRun),
		slog.Int(ReasonMaxAge.String(), n[ReasonMaxAge]), slog.Int(ReasonMaxBytes.String(), n[ReasonMaxBytes]),
		slog.Int(ReasonMinFree.String(), n[ReasonMinFree]), slog.Int(ReasonReclaim.String(), n[ReasonReclaim]),
		slog.Int64("bytes", rep.Bytes), slog.Int("file_errors", rep.FileErrors), slog.Int("batches", rep.Batches),
		slog.Int("unreadable", len(p.unreadable)), slog.Int("over_max_bytes", p.overMaxBytes),
		slog.Int(ReasonUploadedMaxAge.String(), n[ReasonUploadedMaxAge]), slog.Duration("dur", rep.Took))
	if rep.NotUploaded > 0 && !dryRun {
		s.log.LogAttrs(ctx, slog.LevelWarn, "free space deleted segments not uploaded yet",
			slog.Int("segments", rep.NotUploaded))
	}
	if rep.Unmet != "" && !dryRun {
		s.log.LogAttrs(ctx, slog.LevelWarn, "retention could not free enough space", slog.String("reason", rep.Unmet))
		s.logHeldBack(p)
	}
}

// heldBackLogEvery is how often at most logHeldBack logs: a full disk
// makes every failed write ask Reclaim again.
const heldBackLogEvery = time.Minute

// logHeldBack logs at Error, at most once per heldBackLogEvery, when holds
// kept segments that the free-space floor or Reclaim needed gone: the
// disk may fill and stop every camera until an operator removes holds.
func (s *Store) logHeldBack(p *planner) {
	if p.kept.n[keptHeld] == 0 {
		return
	}
	s.heldLogMu.Lock()
	due := s.heldLogAt.IsZero() || time.Since(s.heldLogAt) >= heldBackLogEvery
	if due {
		s.heldLogAt = time.Now()
	}
	s.heldLogMu.Unlock()
	if due {
		s.log.LogAttrs(context.Background(), slog.LevelError, "holds keep recordings that free space needs; remove holds or add disk",
			slog.Int("segments", p.kept.n[keptHeld]), slog.Int64("bytes", p.kept.bytes[keptHeld]))
	}
}
