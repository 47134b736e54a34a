//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestHTTPRecordingsGap records a camera, pauses 20 s, records again, and checks that the
// recordings API answers exactly two spans and one gap as long as the pause in the index
// (within 2 s), that the hourly summary in Europe/Berlin adds up to the spans, and that an
// export across the gap collapses it.
func TestHTTPRecordingsGap(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	const (
		cam   = "gapcam"
		pause = 20 * time.Second
	)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	first := s.pushClip(cam, clipSeconds, false)
	// The only sleep in these tests: the gap in the recording is the scenario itself, a
	// camera that was silent for this long (issue 11: "a recorded camera with a 20 s gap").
	time.Sleep(pause)
	s.pushClip(cam, clipSeconds, false)
	s.waitSealed(cam, 2)
	// The whole window, in whole Berlin hours, so that the summary's buckets cover it.
	from := time.Date(first.In(berlin).Year(), first.In(berlin).Month(), first.In(berlin).Day(), first.In(berlin).Hour(), 0, 0, 0, berlin)
	to := from.Add(2 * time.Hour)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+cam+"/recordings?"+window(from, to), &rec)
	var sum summaryOut
	s.getJSON("/api/v1/cameras/"+cam+"/summary?"+window(from, to, "unit", "hour", "tz", "Europe/Berlin"), &sum)
	if len(rec.Spans) == 2 && len(rec.Gaps) == 1 {
		checkGapExport(t, s, cam, rec)
	}
	s.stop()
	segs := s.segments(cam)
	if len(segs) != 2 {
		t.Fatalf("the index holds %d segments, want 2", len(segs))
	}
	if len(rec.Spans) != 2 || len(rec.Gaps) != 1 {
		t.Fatalf("recordings: %d spans and %d gaps, want 2 and 1: %+v", len(rec.Spans), len(rec.Gaps), rec)
	}
	indexGap := segs[1].Start.Sub(segs[0].End)
	gap := rec.Gaps[0]
	if d := gap.End.Sub(gap.Start); (d-indexGap).Abs() > 2*time.Second || d < pause-time.Second {
		t.Errorf("gap of %v, the index says %v (want within 2s) and the pause was %v", d, indexGap, pause)
	}
	if !gap.Start.Equal(rec.Spans[0].End) || !gap.End.Equal(rec.Spans[1].Start) {
		t.Errorf("gap %v..%v is not between the spans %+v", gap.Start, gap.End, rec.Spans)
	}
	var longest time.Duration
	for i, seg := range segs {
		sp := rec.Spans[i]
		if (sp.Start.Sub(seg.Start)).Abs() > time.Millisecond || (sp.End.Sub(seg.End)).Abs() > time.Millisecond {
			t.Errorf("span %d is %v..%v, the segment %v..%v", i, sp.Start, sp.End, seg.Start, seg.End)
		}
		for _, f := range seg.Fragments {
			longest = max(longest, f.Duration)
		}
	}
	spanSum := rec.Spans[0].Duration + rec.Spans[1].Duration
	if math.Abs(rec.Recorded-spanSum) > 0.002 {
		t.Errorf("recorded %.3fs, the spans add up to %.3fs", rec.Recorded, spanSum)
	}
	if sum.TZ != "Europe/Berlin" || len(sum.Buckets) != 2 {
		t.Fatalf("summary in %q with %d buckets, want Europe/Berlin and 2: %+v", sum.TZ, len(sum.Buckets), sum)
	}
	var bucketSum float64
	for _, b := range sum.Buckets {
		bucketSum += b.Recorded
		if b.End.Sub(b.Start) != time.Hour || b.Start.In(berlin).Minute() != 0 || b.Start.In(berlin).Second() != 0 {
			t.Errorf("bucket %v..%v is not a whole Berlin hour", b.Start, b.End)
		}
	}
	if d := math.Abs(bucketSum - spanSum); d > longest.Seconds() {
		t.Errorf("summary records %.3fs, the spans %.3fs: off by more than one fragment (%v)", bucketSum, spanSum, longest)
	}
	t.Logf("spans %+v, gap %v (index %v), summary %.3fs", rec.Spans, gap.End.Sub(gap.Start), indexGap, bucketSum)
}

// holdOut is a hold as the API answers it.
type holdOut struct {
	ID     string    `json:"id"`
	Camera string    `json:"camera"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// dryRunOut is the answer of a retention dry run.
type dryRunOut struct {
	Cameras []dryRunCamera `json:"cameras"`
}

// dryRunCamera is one camera of a dry run.
type dryRunCamera struct {
	Camera   string                     `json:"camera"`
	Segments int                        `json:"segments"`
	Reasons  map[string]json.RawMessage `json:"reasons"`
}

// TestHTTPHoldsRestart adds a hold over one camera's recording through the API, restarts
// camvault with a max_age that both recordings have passed, and checks that the hold is
// still listed, that the start-up retention pass deleted the other camera's recording and
// kept the held one, and that a dry run lists a new recording of the other camera but
// nothing of the held one.
func TestHTTPHoldsRestart(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	const (
		held, free = "heldcam", "freecam"
		maxAge     = 2 * time.Second
	)
	s := startServer(t, "")
	s.pushClips(clipSeconds, map[string]bool{held: false, free: false})
	s.waitSealed(held, 1)
	s.waitSealed(free, 1)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+held+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Fatalf("%s: %d spans, want 1", held, len(rec.Spans))
	}
	want := holdOut{Camera: held, Reason: "incident 4711",
		From: rec.Spans[0].Start.Add(time.Second).Truncate(time.Millisecond), To: rec.Spans[0].Start.Add(2 * time.Second).Truncate(time.Millisecond)}
	body := fmt.Sprintf(`{"camera":%q,"from":%q,"to":%q,"reason":%q}`, want.Camera, apiTime(want.From), apiTime(want.To), want.Reason)
	resp, out := s.httpDo(http.MethodPost, "/api/v1/holds", []byte(body), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/holds: %s\n%s", resp.Status, out)
	}
	var added holdOut
	if err := json.Unmarshal(out, &added); err != nil {
		t.Fatal(err)
	}
	if want.ID = added.ID; added != want || resp.Header.Get("Location") != "/api/v1/holds/"+url.PathEscape(added.ID) {
		t.Errorf("added %+v at %q, want %+v", added, resp.Header.Get("Location"), want)
	}
	// Retention keeps a segment until its end is max_age old: let the free camera's get there
	// before the restart, so that the pass at start deletes it.
	var freeRec recordingsOut
	s.getJSON("/api/v1/cameras/"+free+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &freeRec)
	if len(freeRec.Spans) != 1 {
		t.Fatalf("%s: %d spans, want 1", free, len(freeRec.Spans))
	}
	s.waitFor(30*time.Second, free+": recording older than max_age", func() bool {
		return time.Since(freeRec.Spans[0].End) > maxAge+time.Second
	})
	s.stop()
	s.writeConfig(fmt.Sprintf("retention: {max_age: %v, interval: 1h}\n", maxAge))
	s.start()
	var holds struct{ Holds []holdOut }
	s.getJSON("/api/v1/holds", &holds)
	if len(holds.Holds) != 1 || holds.Holds[0] != want {
		t.Errorf("after the restart the holds are %+v, want %+v", holds.Holds, want)
	}
	// The retention pass at start deleted the free camera's segment and kept the held one.
	s.waitFor(30*time.Second, free+": segment deleted by max_age", func() bool {
		_, fams := s.scrape()
		n, _ := metricValue(fams, "camvault_camera_segments_deleted_total", "camera", free, "reason", "max_age")
		return n == 1
	})
	s.getJSON("/api/v1/cameras/"+held+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Errorf("%s: %d spans after retention, want its held recording", held, len(rec.Spans))
	}
	// A new recording of the free camera: the dry run lists it once it is older than max_age,
	// and never the held one (the next real pass is an hour away).
	s.pushClip(free, clipSeconds, false)
	s.waitSealed(free, 1)
	var dry dryRunOut
	s.waitFor(30*time.Second, "a dry run listing "+free, func() bool {
		resp, out := s.httpDo(http.MethodPost, "/api/v1/retention/dry-run", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/v1/retention/dry-run: %s\n%s", resp.Status, out)
		}
		dry = dryRunOut{}
		if err := json.Unmarshal(out, &dry); err != nil {
			t.Fatal(err)
		}
		return len(dry.Cameras) > 0
	})
	for _, c := range dry.Cameras {
		switch {
		case c.Camera == held:
			t.Errorf("the dry run would delete %d held segments of %s", c.Segments, held)
		case c.Camera != free || c.Segments != 1 || c.Reasons["max_age"] == nil:
			t.Errorf("the dry run lists %+v, want one segment of %s for max_age", c, free)
		}
	}
	// Without its hold, the held camera's recording is due too.
	if resp, out := s.httpDo(http.MethodDelete, "/api/v1/holds/"+url.PathEscape(want.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE the hold: %s\n%s", resp.Status, out)
	}
	if s.getJSON("/api/v1/holds", &holds); len(holds.Holds) != 0 {
		t.Errorf("holds after DELETE: %+v", holds.Holds)
	}
	resp, out = s.httpDo(http.MethodPost, "/api/v1/retention/dry-run", nil)
	dry = dryRunOut{}
	if err := json.Unmarshal(out, &dry); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v1/retention/dry-run: %s %v\n%s", resp.Status, err, out)
	}
	if !slices.ContainsFunc(dry.Cameras, func(c dryRunCamera) bool { return c.Camera == held && c.Reasons["max_age"] != nil }) {
		t.Errorf("without the hold the dry run lists %+v, want %s for max_age", dry.Cameras, held)
	}
}
