package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// TestStorageStatus: storage's own limits reach the API's answers with their
// statuses (review findings 3 and 12 on issue 11): too many summary buckets
// (storage.max_summary_buckets, the only such limit now) and a hold longer
// than max_hold_duration are 400, a camera's max_holds_per_camera holds 409,
// an unknown hold 404; the spans limit stops the store's scan. The Store is
// the Archive itself.
func TestStorageStatus(t *testing.T) {
	t.Parallel()
	store, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second,
		MaxHoldsPerCamera: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var a Archive = store
	status := storageStatus
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	if _, err := a.Summaries("door", t0.AddDate(-26, 0, 0), t0, storage.SummaryHour, time.UTC); status(err) != http.StatusBadRequest {
		t.Errorf("26 years of hours: %v, want 400", err)
	}
	if _, err := a.AddHold(storage.StoredHold{Camera: "door", From: t0, To: t0.AddDate(0, 2, 0)}); status(err) != http.StatusBadRequest {
		t.Errorf("a two-month hold: %v, want 400", err)
	}
	if _, err := a.AddHold(storage.StoredHold{Camera: "door", From: t0, To: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddHold(storage.StoredHold{Camera: "door", From: t0, To: t0.Add(time.Hour)}); status(err) != http.StatusConflict {
		t.Errorf("a second hold with max_holds_per_camera 1: %v, want 409", err)
	}
	infos := make([]storage.SegmentInfo, 3)
	for i := range infos {
		start := t0.Add(time.Duration(i) * time.Hour)
		infos[i] = storage.SegmentInfo{Camera: "door", Start: start, End: start.Add(time.Minute), State: storage.StateSealed,
			File:      "recordings/door/2026-03-29/" + start.Format("150405.000Z") + ".mp4",
			Fragments: []storage.Fragment{{Start: start, Duration: time.Minute, Key: true}}}
	}
	if err := store.PutSealed(infos); err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveHold("no-such-hold"); status(err) != http.StatusNotFound {
		t.Errorf("removing an unknown hold: %v, want 404", err)
	}
	if spans, err := a.Spans("door", time.Time{}, time.Time{}, 0, 2); err != nil || len(spans) != 2 {
		t.Errorf("spans with limit 2: %v, %v", spans, err)
	}
}
