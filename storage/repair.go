package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
)

// scanHeaderBytes checks an in-memory init + metadata box.
func scanHeaderBytes(header []byte) (*scannedSegment, error) {
	return scanSegment(bytes.NewReader(header), int64(len(header)))
}

// repair finishes segments that a crash left open: a torn last fragment is
// cut off, the end time and seek table come from the whole fragments, and
// the entry is sealed. An entry whose file is gone is removed; so is an
// entry whose file holds no fragment (and that file).
func (s *Store) repair(open []SegmentInfo) error {
	for i := range open {
		if err := s.repairSegment(&open[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) repairSegment(info *SegmentInfo) error {
	log := s.log.With("camera", info.Camera, "segment", info.File)
	rep, max := &s.startup, s.reportPaths()
	scanned, err := s.scanFile(info.File, true)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Warn("open segment has no file; removing its index entry")
		return s.deleteSegment(info.Camera, info.Start)
	case err != nil:
		// Never delete what we cannot read: leave it open and say so.
		log.Error("open segment unreadable; left for check", "err", err)
		rep.add(&rep.Unreadable, info.File+": "+err.Error(), max)
		return nil
	}
	if scanned.Torn {
		s.countersFor(info.Camera).fragmentsLostToCrash.Add(1)
		rep.add(&rep.Torn, info.File, max)
	}
	lastEnd := info.Start
	if n := len(scanned.Fragments); n > 0 {
		lastEnd = scanned.Fragments[n-1].End()
	}
	if lost := scanned.ModTime.Sub(lastEnd); lost > 0 {
		s.countersFor(info.Camera).lostToCrash.Add(int64(lost))
	}
	if len(scanned.Fragments) == 0 {
		log.Info("open segment holds no fragment; removing it")
		s.dropEmpty(info)
		return nil
	}
	sealFromScan(info, scanned)
	if err := s.putSegment(info, scanned.Fragments); err != nil {
		return fmt.Errorf("storage: repair %s: %w", info.File, err)
	}
	rep.add(&rep.Repaired, info.File, max)
	log.LogAttrs(context.Background(), slog.LevelWarn, "repaired open segment",
		slog.Int("fragments", len(scanned.Fragments)), slog.Bool("torn", scanned.Torn),
		slog.Duration("dur", info.End.Sub(info.Start)))
	return nil
}

// sealFromScan makes info a sealed entry that describes the scanned file:
// its end, size, tracks and revision come from the file; Camera, Start,
// File and the upload mark stay.
// scanned must hold at least one fragment.
func sealFromScan(info *SegmentInfo, scanned *scannedSegment) {
	last := scanned.Fragments[len(scanned.Fragments)-1]
	info.State, info.End, info.Bytes, info.Tracks = StateSealed, last.End(), scanned.ValidEnd, scanned.Tracks
	info.Revision = scanned.Meta.Revision
	info.Fragments = nil
}

// scanFile scans a segment file; with cut, a torn tail is truncated away
// and the file synced.
func (s *Store) scanFile(rel string, cut bool) (*scannedSegment, error) {
	flag := os.O_RDONLY
	if cut {
		flag = os.O_RDWR
	}
	f, err := s.root.OpenFile(rel, flag, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ra := getReadAhead(f)
	scanned, err := scanSegment(ra, st.Size())
	putReadAhead(ra)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Base(rel), err)
	}
	scanned.ModTime = st.ModTime()
	if cut && scanned.Torn {
		s.log.Warn("cutting torn fragment", "segment", rel, "bytes", st.Size()-scanned.ValidEnd,
			"reason", scanned.TornReason)
		if err := f.Truncate(scanned.ValidEnd); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	return scanned, nil
}
