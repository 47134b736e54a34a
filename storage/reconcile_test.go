package storage_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// TestOpenReconcilesIndexAndFiles removes a sealed segment's file and adds
// files the index does not know while camvault is stopped: start-up drops
// the entry, adopts the segment files and leaves the rest alone.
func TestOpenReconcilesIndexAndFiles(t *testing.T) {
	dir := t.TempDir()
	before := recordDataDir(t, dir)
	gone := before["a"][1]
	if err := os.Remove(filepath.Join(dir, gone.File)); err != nil {
		t.Fatal(err)
	}
	// An orphan of camera "c": a real segment recorded elsewhere, copied in
	// with a torn tail, which adoption cuts off.
	orphan, b := recordElsewhere(t, "c", startupBase.Add(2*time.Hour), 4)
	writeFile(t, dir, orphan.File, string(b)+"torn tail")
	// A file with a segment's name that is not one, and a stray.
	junk := "recordings/c/2026-11-25/110000.000Z.mp4"
	writeFile(t, dir, junk, "not an mp4")
	writeFile(t, dir, "recordings/c/README", "notes")

	s := openStore(t, dir)
	rep := s.StartupReport()
	got := allSpans(t, s)
	s.Close()
	if !slices.Equal(rep.MissingFiles, []string{gone.File}) || !slices.Equal(rep.Adopted, []string{orphan.File}) ||
		!slices.Equal(rep.Torn, []string{orphan.File}) || len(rep.Unreadable) != 1 ||
		!strings.HasPrefix(rep.Unreadable[0], junk+": ") || rep.Rebuilt {
		t.Fatalf("report %+v", rep)
	}
	want := map[string][]storage.SegmentInfo{"a": slices.Delete(slices.Clone(before["a"]), 1, 2), "b": before["b"], "c": {orphan}}
	sameSpans(t, got, want)
	for _, p := range []string{junk, "recordings/c/README"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Reconciled: the next start has nothing to do but report the junk again.
	s = openStore(t, dir)
	defer s.Close()
	if rep := s.StartupReport(); len(rep.MissingFiles)+len(rep.Adopted)+len(rep.Torn) != 0 || len(rep.Unreadable) != 1 {
		t.Errorf("second start: %+v", rep)
	}
}

// TestOpenKeepsEntriesOfOtherFiles: PutSealed may point an entry at a file
// in another camera's directory (the bench's synthetic index does); start-up
// keeps it and does not adopt the file twice.
func TestOpenKeepsEntriesOfOtherFiles(t *testing.T) {
	dir := t.TempDir()
	before := recordDataDir(t, dir)
	s := openStore(t, dir)
	alias := before["b"][0]
	alias.Camera = "alias"
	if err := s.PutSealed([]storage.SegmentInfo{alias}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, dir)
	rep := s.StartupReport()
	got := allSpans(t, s)
	s.Close()
	if len(rep.MissingFiles)+len(rep.Adopted) != 0 {
		t.Fatalf("report %+v", rep)
	}
	before["alias"] = []storage.SegmentInfo{alias}
	sameSpans(t, got, before)
}

// TestStartupReportCapsLists: past Config.ReportPaths a list stops growing
// and the rest is counted.
func TestStartupReportCapsLists(t *testing.T) {
	dir := t.TempDir()
	before := recordDataDir(t, dir)
	for _, seg := range before["a"] {
		if err := os.Remove(filepath.Join(dir, seg.File)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone, ReportPaths: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep := s.StartupReport(); len(rep.MissingFiles) != 2 || rep.Omitted != 1 {
		t.Errorf("report %+v", rep)
	}
	if segs, _ := s.Segments("a", time.Time{}, time.Time{}, false); len(segs) != 0 {
		t.Errorf("entries of missing files kept: %+v", segs)
	}
}
