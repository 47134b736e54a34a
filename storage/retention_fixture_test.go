package storage_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// retT0 is the start of the first synthetic segment; segments are segLen
// long and numbered from it.
var retT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const segLen = 10 * time.Minute

// slot returns the start of synthetic segment i.
func slot(i int) time.Time { return retT0.Add(time.Duration(i) * segLen) }

// segSpec is one segment of a retention test.
type segSpec struct {
	cam    string
	at     int   // start is slot(at)
	bytes  int64 // 0: 1000
	open   bool  // recorded through Create and left open (bytes as recorded)
	orphan bool  // only a file, unknown to the index
	// upload is the sealed segment's upload mark (MarkUpload).
	upload storage.UploadState
}

// segFile is the path of a segment file relative to the data directory.
func segFile(cam string, start time.Time) string {
	return path.Join("recordings", cam, start.Format("2006-01-02"), start.Format("150405.000Z")+".mp4")
}

// fsModel models the data directory's file system: total bytes, of which
// the files under the data directory are used. Deleting a file frees its
// bytes; a file that could not be removed still takes its space.
type fsModel struct {
	dir   string
	total int64

	mu    sync.Mutex
	calls int
	// hook runs at each FreeSpace call (counted from 1); it may add free
	// bytes (space freed by someone else) or fail the call. Optional.
	hook func(call int) (extra int64, err error)
}

func (m *fsModel) FreeSpace() (free, total int64, err error) {
	m.mu.Lock()
	m.calls++
	call, hook := m.calls, m.hook
	m.mu.Unlock()
	var extra int64
	if hook != nil {
		if extra, err = hook(call); err != nil {
			return 0, 0, err
		}
	}
	var used int64
	err = filepath.WalkDir(filepath.Join(m.dir, "recordings"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") { // .camvault-id is no recording
			return err
		}
		st, err := d.Info()
		used += st.Size()
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return m.total - used + extra, m.total, err
}

// retFixture is a Store with synthetic segments, real files and a modelled
// file system. Its cleanup seals open segments, closes the Store and checks
// that index and files agree.
type retFixture struct {
	t    *testing.T
	dir  string
	s    *storage.Store
	fs   *fsModel
	open []*storage.Segment
	// orphans are files the index does not list (never deleted).
	orphans []string
}

func (m *fsModel) setHook(hook func(call int) (int64, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = hook
}

func newRetFixture(t *testing.T, total int64, logger *slog.Logger) *retFixture {
	t.Helper()
	dir := t.TempDir()
	m := &fsModel{dir: dir, total: total}
	s, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone, IndexTimeout: time.Second,
		FreeSpace: m.FreeSpace, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f := &retFixture{t: t, dir: dir, s: s, fs: m}
	t.Cleanup(f.finish)
	return f
}

// put adds segments: sealed ones with a file of their bytes and a
// one-fragment seek table, open ones recorded for real, orphans as files.
func (f *retFixture) put(specs ...segSpec) {
	f.t.Helper()
	var sealed []storage.SegmentInfo
	for _, sp := range specs {
		start := slot(sp.at)
		if sp.open {
			f.open = append(f.open, writeSegment(f.t, f.s, sp.cam, start, 2))
			waitInfo(f.t, f.s, sp.cam, start, 1)
			continue
		}
		info := synthSegment(sp.cam, start, orDefault(sp.bytes, 1000))
		f.writeFile(info.File, info.Bytes)
		if sp.orphan {
			f.orphans = append(f.orphans, info.File)
			continue
		}
		sealed = append(sealed, info)
	}
	if err := f.s.PutSealed(sealed); err != nil {
		f.t.Fatal(err)
	}
	for _, sp := range specs {
		if sp.upload == storage.UploadNone {
			continue
		}
		m := storage.UploadMark{State: sp.upload, Key: "k/" + sp.cam, At: slot(sp.at + 1)}
		if err := f.s.MarkUpload(sp.cam, slot(sp.at), m); err != nil {
			f.t.Fatal(err)
		}
	}
}

// synthSegment is a sealed segment of one fragment.
func synthSegment(cam string, start time.Time, bytes int64) storage.SegmentInfo {
	return storage.SegmentInfo{Camera: cam, Start: start, End: start.Add(segLen), File: segFile(cam, start),
		Bytes: bytes, State: storage.StateSealed,
		Fragments: []storage.Fragment{{Start: start, Duration: segLen, Size: bytes, Key: true}}}
}

func orDefault(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

func (f *retFixture) writeFile(rel string, size int64) {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o640); err != nil {
		f.t.Fatal(err)
	}
}

// exists reports whether rel exists under the data directory.
func (f *retFixture) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(f.dir, filepath.FromSlash(rel)))
	return err == nil
}

// finish seals, closes and checks the data directory.
func (f *retFixture) finish() {
	for _, seg := range f.open {
		seg.Seal()
		<-seg.Done()
	}
	if err := f.s.Close(); err != nil {
		f.t.Error(err)
	}
	checkIndexMatchesFiles(f.t, f.dir, f.orphans)
}

// checkIndexMatchesFiles reopens dir and checks that every index entry has
// its file with the indexed size, that every file but the listed orphans
// has an entry, and that no empty directory is left under recordings.
func checkIndexMatchesFiles(t *testing.T, dir string, orphans []string) {
	t.Helper()
	s := openStore(t, dir)
	defer s.Close()
	cams, err := s.Cameras()
	if err != nil {
		t.Fatal(err)
	}
	indexed := map[string]bool{}
	for _, cam := range cams {
		infos, err := s.Segments(cam, time.Time{}, time.Time{}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			indexed[in.File] = true
			st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(in.File)))
			if err != nil || st.Size() != in.Bytes {
				t.Errorf("index entry %s (%d bytes): file %v", in.File, in.Bytes, err)
			}
		}
	}
	root := filepath.Join(dir, "recordings")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator)))
		if d.IsDir() {
			if ents, err := os.ReadDir(p); err == nil && len(ents) == 0 && p != root {
				t.Errorf("empty directory %s left behind", rel)
			}
			return nil
		}
		if !indexed[rel] && !slices.Contains(orphans, rel) && !strings.HasPrefix(d.Name(), ".") {
			t.Errorf("file %s has no index entry", rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// names renders deletions as "cam@slot reason" for comparisons.
func names(dels []storage.Deletion) []string {
	out := make([]string, 0, len(dels))
	for _, d := range dels {
		out = append(out, fmt.Sprintf("%s@%d %s", d.Camera, d.Start.Sub(retT0)/segLen, d.Reason))
	}
	return out
}
