package storage_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/camvault/camvault/storage"
)

const idPath = "recordings/.camvault-id"

var startupBase = time.Date(2026, 11, 25, 8, 0, 0, 5e6, time.UTC)

// recordDataDir records sealed segments of two cameras (three of "a", one of
// "b"), closes the store and returns the spans as Segments lists them.
func recordDataDir(t *testing.T, dir string) map[string][]storage.SegmentInfo {
	t.Helper()
	s := openStore(t, dir)
	for i := range 3 {
		sealSegment(t, writeSegment(t, s, "a", startupBase.Add(time.Duration(i)*time.Minute), 3+i))
	}
	sealSegment(t, writeSegment(t, s, "b", startupBase.Add(time.Hour), 2))
	spans := allSpans(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return spans
}

func sealSegment(t *testing.T, seg *storage.Segment) {
	t.Helper()
	seg.Seal()
	<-seg.Done()
	if err := seg.Err(); err != nil {
		t.Fatal(err)
	}
}

// allSpans returns every camera's segments with their seek tables.
func allSpans(t *testing.T, s *storage.Store) map[string][]storage.SegmentInfo {
	t.Helper()
	cams, err := s.Cameras()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]storage.SegmentInfo{}
	for _, cam := range cams {
		if out[cam], err = s.Segments(cam, time.Time{}, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameSpans fails unless got and want list the same segments: start, end,
// file, bytes and every fragment's offset, size, start (1 µs: the index's
// precision) and key flag.
func sameSpans(t *testing.T, got, want map[string][]storage.SegmentInfo) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d cameras, want %d", len(got), len(want))
	}
	for cam, ws := range want {
		gs := got[cam]
		if len(gs) != len(ws) {
			t.Fatalf("%s: %d segments, want %d", cam, len(gs), len(ws))
		}
		for i, w := range ws {
			g := gs[i]
			if !g.Start.Equal(w.Start) || g.End.Sub(w.End).Abs() > time.Microsecond || g.File != w.File ||
				g.Bytes != w.Bytes || g.State != w.State || len(g.Fragments) != len(w.Fragments) {
				t.Fatalf("%s segment %d: %+v, want %+v", cam, i, g, w)
			}
			for j, wf := range w.Fragments {
				gf := g.Fragments[j]
				if gf.Offset != wf.Offset || gf.Size != wf.Size || gf.Key != wf.Key ||
					gf.Start.Sub(wf.Start).Abs() > time.Microsecond || gf.Duration.Round(time.Microsecond) != wf.Duration.Round(time.Microsecond) {
					t.Fatalf("%s segment %d fragment %d: %+v, want %+v", cam, i, j, gf, wf)
				}
			}
		}
	}
}

func readID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, idPath))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// indexMeta reads (or with put, replaces) a key of index.db's meta bucket;
// a nil value deletes the whole bucket.
func indexMeta(t *testing.T, dir, key string, put []byte, write bool) string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "index.db"), 0o640, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("meta"))
		switch {
		case write && put == nil:
			return tx.DeleteBucket([]byte("meta"))
		case write:
			return b.Put([]byte(key), put)
		case b != nil:
			v = string(b.Get([]byte(key)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenFreshDataDir(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	rep := s.StartupReport()
	s.Close()
	id := readID(t, dir)
	if len(id) != 32 || rep.ID != id || rep.Rebuilt {
		t.Fatalf("file ID %q, report %+v", id, rep)
	}
	if got := indexMeta(t, dir, "id", nil, false); got != id {
		t.Errorf("index ID %q, file ID %q", got, id)
	}
	if got := indexMeta(t, dir, "format", nil, false); got != "1" {
		t.Errorf("index format %q", got)
	}
	// A second start finds both and changes nothing.
	s = openStore(t, dir)
	defer s.Close()
	if rep := s.StartupReport(); rep.ID != id || rep.Rebuilt {
		t.Errorf("reopen: %+v", rep)
	}
	if readID(t, dir) != id {
		t.Error("ID file rewritten")
	}
}

// TestOpenRebuildsDeletedIndex is issue 5's "index.db deleted while
// stopped": start-up rebuilds it from the files, with the file-side ID, and
// every span is back as it was.
func TestOpenRebuildsDeletedIndex(t *testing.T) {
	dir := t.TempDir()
	before := recordDataDir(t, dir)
	id := readID(t, dir)
	if err := os.Remove(filepath.Join(dir, "index.db")); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dir)
	rep := s.StartupReport()
	if !rep.Rebuilt || len(rep.Adopted) != 4 || rep.ID != id || len(rep.Unreadable) != 0 {
		t.Fatalf("report %+v", rep)
	}
	sameSpans(t, allSpans(t, s), before)
	s.Close()
	if got := indexMeta(t, dir, "id", nil, false); got != id {
		t.Errorf("rebuilt index has ID %q, files have %q", got, id)
	}
}

func TestOpenRebuildsIndexWithoutIDFile(t *testing.T) {
	dir := t.TempDir()
	before := recordDataDir(t, dir)
	for _, p := range []string{"index.db", idPath} {
		if err := os.Remove(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, dir)
	defer s.Close()
	if rep := s.StartupReport(); !rep.Rebuilt || rep.ID != readID(t, dir) {
		t.Fatalf("report %+v, file ID %q", rep, readID(t, dir))
	}
	sameSpans(t, allSpans(t, s), before)
}

func TestOpenRefusesOtherDataDir(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the stopped data directory.
		damage func(t *testing.T, dir string)
		want   error
		says   []string
		// namesIndexID: the message names the index's ID.
		namesIndexID bool
	}{
		{"other ID in recordings", func(t *testing.T, dir string) {
			writeFile(t, dir, idPath, "0123456789abcdef0123456789abcdef\n")
		}, storage.ErrWrongDataDir, []string{"0123456789abcdef0123456789abcdef", "camvault reindex", "wrong disk", "Mount the right disk"}, true},
		{"ID file missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, idPath)); err != nil {
				t.Fatal(err)
			}
		}, storage.ErrNoDataDirID, []string{"is the recordings disk mounted", "camvault reindex", "4 segments"}, true},
		{"newer index format", func(t *testing.T, dir string) {
			indexMeta(t, dir, "format", []byte("2"), true)
		}, storage.ErrNewerIndex, []string{"format 2", "reads up to 1", "camvault reindex"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			recordDataDir(t, dir)
			indexID := indexMeta(t, dir, "id", nil, false)
			tc.damage(t, dir)
			idFile, _ := os.ReadFile(filepath.Join(dir, idPath))
			index, _ := os.ReadFile(filepath.Join(dir, "index.db"))
			_, err := storage.Open(storage.Config{Dir: dir, IndexTimeout: time.Second})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			if tc.namesIndexID {
				tc.says = append(tc.says, indexID)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
			// Nothing was changed.
			if b, _ := os.ReadFile(filepath.Join(dir, idPath)); string(b) != string(idFile) {
				t.Error("ID file changed")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "index.db")); string(b) != string(index) {
				t.Error("index.db changed")
			}
		})
	}
}

func TestOpenWritesIDFileForEmptyIndex(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	id := s.StartupReport().ID
	s.Close()
	if err := os.Remove(filepath.Join(dir, idPath)); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if got := readID(t, dir); got != id || s.StartupReport().ID != id {
		t.Errorf("ID file %q, want the index's %q", got, id)
	}
}

// TestOpenAdoptsIDForLegacyIndex opens data directories from before IDs:
// index.db without a meta bucket, with and without an ID file.
func TestOpenAdoptsIDForLegacyIndex(t *testing.T) {
	for _, keepFile := range []bool{false, true} {
		dir := t.TempDir()
		before := recordDataDir(t, dir)
		fileID := readID(t, dir)
		indexMeta(t, dir, "", nil, true)
		if !keepFile {
			if err := os.Remove(filepath.Join(dir, idPath)); err != nil {
				t.Fatal(err)
			}
		}
		s := openStore(t, dir)
		id := s.StartupReport().ID
		sameSpans(t, allSpans(t, s), before)
		s.Close()
		if got := indexMeta(t, dir, "id", nil, false); got != id || readID(t, dir) != id || len(id) != 32 {
			t.Errorf("keep file %v: index ID %q, file ID %q, report %q", keepFile, got, readID(t, dir), id)
		}
		if keepFile && id != fileID {
			t.Errorf("adopted %q, recordings had %q", id, fileID)
		}
	}
}

// TestOpenSetsCorruptIndexAside damages index.db in ways bbolt answers with
// an error, a panic or a fault on its memory map; each time the index is
// renamed and rebuilt with every segment back.
func TestOpenSetsCorruptIndexAside(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"not a database", func([]byte) []byte { return []byte("this is not a bbolt file at all, sorry") }},
		{"meta pages overwritten", func(b []byte) []byte {
			for i := range 8192 {
				b[i] ^= 0x55
			}
			return b
		}},
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated to two pages", func(b []byte) []byte { return b[:8192] }},
		// bbolt reads the freelist through its memory map, beyond the end of
		// the file: a fault, not a panic.
		{"truncated before the freelist", func(b []byte) []byte { return b[:boltFreelistOffset(b)] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			before := recordDataDir(t, dir)
			path := filepath.Join(dir, "index.db")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tc.damage(b)
			if err := os.WriteFile(path, damaged, 0o640); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, dir)
			defer s.Close()
			if rep := s.StartupReport(); !rep.Rebuilt || len(rep.Adopted) != 4 {
				t.Fatalf("report %+v", rep)
			}
			sameSpans(t, allSpans(t, s), before)
			aside, _ := filepath.Glob(filepath.Join(dir, "index.db.corrupt-*"))
			if len(aside) != 1 {
				t.Fatalf("set aside: %v", aside)
			}
			if kept, _ := os.ReadFile(aside[0]); string(kept) != string(damaged) {
				t.Error("the corrupt index was not kept as it was")
			}
		})
	}
}

func TestReindexKeepsDataDirID(t *testing.T) {
	dir := t.TempDir()
	recordDataDir(t, dir)
	id := readID(t, dir)
	// The index of another data directory: reindex pairs the files' ID.
	indexMeta(t, dir, "id", []byte("0123456789abcdef0123456789abcdef"), true)
	rep, err := storage.Reindex(storage.Config{Dir: dir})
	if err != nil || rep.ID != id || rep.Segments != 4 {
		t.Fatalf("reindex: %+v %v", rep, err)
	}
	if got := indexMeta(t, dir, "id", nil, false); got != id {
		t.Errorf("index ID %q, want %q", got, id)
	}
	if err := os.Remove(filepath.Join(dir, idPath)); err != nil {
		t.Fatal(err)
	}
	rep, err = storage.Reindex(storage.Config{Dir: dir})
	if err != nil || rep.ID == id || rep.ID != readID(t, dir) || indexMeta(t, dir, "id", nil, false) != rep.ID {
		t.Fatalf("reindex without ID file: %+v %v; file %q", rep, err, readID(t, dir))
	}
	s := openStore(t, dir)
	s.Close()
}

// boltFreelistOffset returns the file offset of the freelist page that a
// bbolt file's current meta page names. A meta page is a 16-byte page
// header, then magic(4) version(4) pageSize(4) flags(4) root(16)
// freelist(8) pgid(8) txid(8) checksum(8), little-endian; the current one
// has the higher txid.
func boltFreelistOffset(b []byte) int {
	m := b[16:]
	pageSize := int(binary.LittleEndian.Uint32(m[8:]))
	if m1 := b[pageSize+16:]; binary.LittleEndian.Uint64(m1[48:]) > binary.LittleEndian.Uint64(m[48:]) {
		m = m1
	}
	return int(binary.LittleEndian.Uint64(m[32:])) * pageSize
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenKeepsIndexItCannotOpen: an index.db bbolt cannot even open (here a
// directory) is an error to report, not corruption to set aside.
func TestOpenKeepsIndexItCannotOpen(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "index.db"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Open(storage.Config{Dir: dir}); err == nil {
		t.Fatal("Open succeeded")
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "index.db.corrupt-*")); len(aside) != 0 {
		t.Errorf("set aside: %v", aside)
	}
}
