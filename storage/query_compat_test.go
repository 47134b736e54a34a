package storage

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestSummariesWithoutCounts: entries written before sealed values carried
// fragment counts (or whose counts are gone) are counted from their seek
// tables, with the same result.
func TestSummariesWithoutCounts(t *testing.T) {
	t.Parallel()
	s, err := Open(Config{Dir: t.TempDir(), Sync: SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 7))
	start := time.Date(2026, 10, 24, 20, 7, 3, 0, time.UTC)
	var infos []SegmentInfo
	for range 40 {
		dur := time.Duration(60+rng.IntN(7200)) * time.Second
		info := SegmentInfo{Camera: "cam", Start: start, End: start.Add(dur), File: segmentPath("cam", start),
			Bytes: rng.Int64N(1 << 30), State: StateSealed}
		n := 1 + rng.IntN(40)
		for i := range n {
			f := Fragment{Start: start.Add(dur * time.Duration(i) / time.Duration(n)), Duration: dur / time.Duration(n),
				Size: 10, Offset: int64(i) * 10}
			info.Fragments = append(info.Fragments, f)
		}
		infos = append(infos, info)
		start = info.End.Add(time.Duration(rng.IntN(600)) * time.Second)
	}
	if err := s.PutSealed(infos); err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from, to := infos[0].Start.Add(-time.Hour), start.Add(time.Hour)
	summaries := func() []Summary {
		t.Helper()
		got, err := s.Summaries("cam", from, to, SummaryHour, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	with := summaries()
	err = s.db.Update(func(tx *bolt.Tx) error {
		segs := tx.Bucket(bucketCameras).Bucket([]byte("cam")).Bucket(bucketSegments)
		for i := range infos {
			if err := segs.Put(segKey(infos[i].Start), encodeSegment(&infos[i])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if without := summaries(); !slices.Equal(with, without) {
		t.Errorf("summaries differ without counts:\n with    %+v\n without %+v", with, without)
	}
	got, want := 0, 0
	for _, b := range with {
		got += b.Fragments
	}
	for i := range infos {
		want += len(infos[i].Fragments)
	}
	if got != want {
		t.Errorf("%d fragments counted, want all %d", got, want)
	}
}
