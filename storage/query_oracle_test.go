package storage_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// randomSegments returns n sealed segments of cam from t0 with random
// lengths (a second to three hours, now and then more than a day, so that
// no count marks are stored), gaps and fragment layouts, at millisecond
// precision; a third of the fragments start on a quarter hour.
func randomSegments(rng *rand.Rand, cam string, t0 time.Time, n int) []storage.SegmentInfo {
	var out []storage.SegmentInfo
	t := t0
	for i := range n {
		dur := time.Duration(1+rng.IntN(3*3600)) * time.Second
		if i%17 == 16 {
			dur = 26*time.Hour + time.Duration(rng.IntN(3600))*time.Second
		}
		info := storage.SegmentInfo{Camera: cam, Start: t, End: t.Add(dur), File: segFile(cam, t),
			Bytes: 1 + rng.Int64N(1<<32), State: storage.StateSealed}
		nf := 1 + rng.IntN(60)
		starts := []time.Duration{0}
		for range nf - 1 {
			at := time.Duration(rng.Int64N(int64(dur/time.Millisecond))) * time.Millisecond
			if rng.IntN(3) == 0 { // on a quarter hour: exactly on a bucket boundary
				at = max(t.Add(at).Truncate(15*time.Minute).Sub(t), 0)
			}
			starts = append(starts, at)
		}
		slices.Sort(starts)
		starts = slices.Compact(starts)
		for j, s := range starts {
			end := dur
			if j+1 < len(starts) {
				end = starts[j+1]
			}
			info.Fragments = append(info.Fragments, storage.Fragment{Start: t.Add(s), Duration: end - s,
				Offset: int64(j) * 100, Size: 100, Key: true})
		}
		out = append(out, info)
		t = info.End.Add(time.Duration(rng.IntN(2*3600)) * time.Second * time.Duration(rng.IntN(2)))
	}
	return out
}

// oracle computes the summary of one bucket from the segments themselves.
func oracle(segs []storage.SegmentInfo, b storage.Summary) storage.Summary {
	share := func(sg storage.SegmentInfo, t time.Time) *big.Int {
		x := new(big.Int).Mul(big.NewInt(sg.Bytes), big.NewInt(int64(t.Sub(sg.Start))))
		return x.Quo(x, big.NewInt(int64(sg.End.Sub(sg.Start))))
	}
	want := storage.Summary{Start: b.Start, End: b.End}
	for _, sg := range segs {
		from, to := later(sg.Start, b.Start), earlier(sg.End, b.End)
		if !to.After(from) {
			continue
		}
		want.Recorded += to.Sub(from)
		want.Segments++
		want.Bytes += new(big.Int).Sub(share(sg, to), share(sg, from)).Int64()
		for _, f := range sg.Fragments {
			if !f.Start.Before(b.Start) && f.Start.Before(b.End) {
				want.Fragments++
			}
		}
	}
	return want
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TestSummariesOracle compares Summaries and Spans with a direct
// computation over random recordings, in zones with whole-hour, half-hour
// and DST offsets, for hour and day buckets and windows that start and end
// anywhere.
func TestSummariesOracle(t *testing.T) {
	t.Parallel()
	s, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(11, 2026))
	t0 := time.Date(2026, 3, 20, 7, 13, 21, 0, time.UTC)
	segs := randomSegments(rng, "cam", t0, 120)
	if err := s.PutSealed(segs); err != nil {
		t.Fatal(err)
	}
	last := segs[len(segs)-1].End
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"} {
		loc := mustZone(t, zone)
		for i := range 20 {
			from := t0.Add(time.Duration(rng.Int64N(int64(last.Sub(t0)))) - 6*time.Hour)
			to := from.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
			for _, unit := range []storage.SummaryUnit{storage.SummaryHour, storage.SummaryDay} {
				name := fmt.Sprintf("%s/%d/%v", zone, i, unit)
				got, err := s.Summaries("cam", from, to, unit, loc)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, b := range got {
					if want := oracle(segs, b); b != want {
						t.Fatalf("%s: bucket\n got  %+v\n want %+v", name, b, want)
					}
				}
			}
			checkSpansOracle(t, s, segs, from, to)
		}
	}
}

// checkSpansOracle compares Spans without tolerance with the segments
// clipped to [from, to) and joined where they touch.
func checkSpansOracle(t *testing.T, s *storage.Store, segs []storage.SegmentInfo, from, to time.Time) {
	t.Helper()
	var want []storage.Span
	for _, sg := range segs {
		a, b := later(sg.Start, from), earlier(sg.End, to)
		if !b.After(a) {
			continue
		}
		if n := len(want); n > 0 && !a.After(want[n-1].End) {
			want[n-1].End = b
			continue
		}
		want = append(want, storage.Span{Start: a, End: b})
	}
	got, err := s.Spans("cam", from, to, 0, 0)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("spans [%v, %v):\n got  %v, %v\n want %v", from, to, got, err, want)
	}
}
