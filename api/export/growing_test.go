package export_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/storage"
)

// TestGrowingSegment exports a segment still being written: a window that
// reaches past the last written fragment is redirected (302) to the same
// window ending there, whose bytes and ETag stay the same as the segment
// grows (review finding 8); following the redirect, the export holds what
// is written so far, and the original URL's target changes as it grows.
func TestGrowingSegment(t *testing.T) {
	st := recordings(t)
	base := serve(t, st, export.DefaultOptions())
	segs, err := st.Segments("cam", time.Time{}, time.Time{}, true)
	if err != nil || len(segs) == 0 {
		t.Fatalf("cam: %v", err)
	}
	src := segs[0]
	init, err := st.ReadInit(src.File)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := st.Create("live", t0, 1, init)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		seg.Seal()
		<-seg.Done()
	}()
	written := 0
	grow := func(n int) {
		t.Helper()
		for ; n > 0; n-- {
			f := src.Fragments[written]
			buf := st.BufferOf(int(f.Size))
			b, err := st.ReadFragment(src.File, f, *buf)
			if err != nil {
				t.Fatal(err)
			}
			*buf = b
			if err := seg.Append(storage.FragmentInfo{Start: f.Start, Duration: f.Duration, Key: f.Key}, buf); err != nil {
				t.Fatal(err)
			}
			written++
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if _, err := st.WaitFragments(ctx, "live", t0, written-1); err != nil {
			t.Fatal(err)
		}
	}
	url := exportURL(base, "live", 0, time.Minute, "mp4")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var tags []string
	var stable string // the redirect target after the first growth
	var stableTag, stableLoc string
	for _, n := range []int{5, 3} {
		grow(n)
		resp, err := noFollow.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		wantEnd := "end=" + strings.ReplaceAll(src.Fragments[written-1].End().UTC().Format(time.RFC3339Nano), ":", "%3A")
		if resp.StatusCode != http.StatusFound || !strings.Contains(loc, wantEnd) {
			t.Fatalf("%d fragments: status %d Location %q, want 302 with %s", written, resp.StatusCode, loc, wantEnd)
		}
		if stable == "" {
			stable = base + loc
			r, _ := get(t, "GET", stable)
			stableTag, stableLoc = r.Header.Get("ETag"), loc
		} else if r, _ := get(t, "GET", stable); r.StatusCode != 200 || r.Header.Get("ETag") != stableTag {
			t.Errorf("%s after growth: status %d ETag %s, want 200 and %s", stableLoc, r.StatusCode, r.Header.Get("ETag"), stableTag)
		}
		resp, body := get(t, "GET", url)
		if resp.StatusCode != 200 {
			t.Fatalf("%d fragments: status %d %s", written, resp.StatusCode, body)
		}
		tags = append(tags, resp.Header.Get("ETag"))
		path := save(t, body)
		d, _ := strconv.ParseFloat(ffprobe(t, path, false).Format.Duration, 64)
		want := src.Fragments[written-1].End().Sub(t0)
		if diff := time.Duration(d*float64(time.Second)) - want; diff < -time.Second/fps || diff > time.Second/fps {
			t.Errorf("%d fragments: duration %vs, want %v", written, d, want)
		}
		decodeAll(t, path)
	}
	if tags[0] == tags[1] {
		t.Errorf("the ETag %s did not change as the segment grew", tags[0])
	}
}
