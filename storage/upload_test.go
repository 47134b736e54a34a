package storage_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// TestRevisionAndUploadMark: a segment's fencing revision reaches its
// index entry and its file (a rebuild of the index recovers it); the upload
// queue is the sealed entries without a mark, and MarkUpload settles one
// without losing what the entry held.
func TestRevisionAndUploadMark(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	seg := writeSegmentRev(t, s, "cam", start, 3, 42)
	seg.Seal()
	<-seg.Done()
	next := start.Add(time.Minute)
	open := writeSegmentRev(t, s, "cam", next, 1, 43)
	waitInfo(t, s, "cam", next, 0) // more than 0 fragments

	pending, resume, err := s.PendingUploads("cam", time.Time{}, 10)
	if err != nil || len(pending) != 1 || !resume.Equal(start) {
		t.Fatalf("pending %d, resume %v, err %v; want the sealed one and its start", len(pending), resume, err)
	}
	if p := pending[0]; p.Revision != 42 || len(p.Fragments) != 3 || p.Upload.State != storage.UploadNone {
		t.Fatalf("pending segment %+v", p)
	}
	at := start.Add(time.Hour)
	mark := storage.UploadMark{State: storage.UploadDone, Key: "cam/2026-11-25/10/100000.000Z_n1_r42.mp4", At: at}
	if err := s.MarkUpload("cam", start, mark); err != nil {
		t.Fatal(err)
	}
	if pending, resume, err = s.PendingUploads("cam", time.Time{}, 10); err != nil || len(pending) != 0 || !resume.Equal(next) {
		t.Fatalf("after the mark: pending %d, resume %v, err %v; want none and the open segment's start", len(pending), resume, err)
	}
	infos, err := s.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 2 {
		t.Fatalf("segments %d, %v", len(infos), err)
	}
	if got := infos[0]; got.Revision != 42 || got.Upload != mark || len(got.Fragments) != 3 || got.State != storage.StateSealed {
		t.Errorf("marked segment %+v", got)
	}
	if got := infos[1]; got.Revision != 43 || got.State != storage.StateOpen {
		t.Errorf("open segment %+v", got)
	}
	sums, err := s.Summaries("cam", start, next, storage.SummaryHour, time.UTC)
	if err != nil || len(sums) != 1 || sums[0].Fragments != 4 { // 3 sealed, 1 open
		t.Errorf("summaries of the marked segment: %+v, %v", sums, err)
	}
	if err := s.MarkUpload("cam", start.Add(time.Second), mark); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("mark of a missing segment: %v, want ErrNotFound", err)
	}
	if err := s.MarkUpload("cam", next, mark); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("mark of an open segment: %v, want ErrCorrupt", err)
	}
	open.Seal()
	<-open.Done()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A rebuild from the files keeps the revisions and forgets the mark.
	if err := os.Remove(filepath.Join(dir, "index.db")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	infos, err = s.Segments("cam", time.Time{}, time.Time{}, false)
	if err != nil || len(infos) != 2 {
		t.Fatalf("rebuilt segments %d, %v", len(infos), err)
	}
	if infos[0].Revision != 42 || infos[1].Revision != 43 || infos[0].Upload.State != storage.UploadNone {
		t.Errorf("rebuilt: revisions %d %d, upload %v", infos[0].Revision, infos[1].Revision, infos[0].Upload.State)
	}
}

// TestUploadBacklogCountsPastTheBatch: the backlog counts every sealed,
// unmarked entry from its start on, however many a PendingUploads batch
// takes, with their bytes and the first one's end; marked and open entries
// are left out.
func TestUploadBacklogCountsPastTheBatch(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	const sealed = 5
	for i := range sealed {
		seg := writeSegment(t, s, "cam", start.Add(time.Duration(i)*time.Minute), 1+i%2)
		seg.Seal()
		<-seg.Done()
	}
	open := start.Add(sealed * time.Minute)
	seg := writeSegment(t, s, "cam", open, 1)
	defer func() { seg.Seal(); <-seg.Done() }()
	waitInfo(t, s, "cam", open, 0)
	if err := s.MarkUpload("cam", start, storage.UploadMark{State: storage.UploadDone, Key: "k", At: start}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUpload("cam", start.Add(2*time.Minute), storage.UploadMark{State: storage.UploadRefused, At: start}); err != nil {
		t.Fatal(err)
	}
	infos, err := s.Segments("cam", time.Time{}, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.UploadBacklog{Segments: 3, OldestEnd: infos[1].End}
	for _, i := range []int{1, 3, 4} {
		want.Bytes += infos[i].Bytes
	}
	pending, resume, err := s.PendingUploads("cam", time.Time{}, 1)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %d, %v", len(pending), err)
	}
	for _, from := range []time.Time{{}, resume} {
		if got, err := s.UploadBacklog("cam", from); err != nil || got != want || got.Bytes == 0 {
			t.Errorf("backlog from %v: %+v, %v; want %+v", from, got, err, want)
		}
	}
	if got, err := s.UploadBacklog("cam", start.Add(4*time.Minute)); err != nil || got.Segments != 1 || got.Bytes != infos[4].Bytes {
		t.Errorf("backlog from the last sealed one: %+v, %v", got, err)
	}
	if got, err := s.UploadBacklog("nobody", time.Time{}); err != nil || got != (storage.UploadBacklog{}) {
		t.Errorf("backlog of an unknown camera: %+v, %v", got, err)
	}
}
