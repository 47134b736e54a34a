package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRecordingsGap: a camera with a 20 s gap answers exactly two spans
// and the gap between them.
func TestRecordingsGap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	f.segment("door", t0, t0.Add(time.Minute))
	f.segment("door", t0.Add(80*time.Second), t0.Add(3*time.Minute))
	a := f.do(ops(request{target: "/api/v1/cameras/door/recordings?start=2026-03-29T09:00:00Z&end=2026-03-29T11:00:00Z"}))
	var got struct {
		Spans, Gaps []struct {
			Start, End string
			Duration   float64
		}
		Recorded     float64
		GapTolerance float64 `json:"gap_tolerance"`
	}
	a.decode(t, &got)
	if a.code != http.StatusOK || len(got.Spans) != 2 || len(got.Gaps) != 1 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if g := got.Gaps[0]; g.Start != "2026-03-29T10:01:00.000Z" || g.End != "2026-03-29T10:01:20.000Z" || g.Duration != 20 {
		t.Errorf("gap %+v", g)
	}
	if got.Recorded != 160 || got.GapTolerance != 2 {
		t.Errorf("recorded %v, gap tolerance %v", got.Recorded, got.GapTolerance)
	}
	// A tolerance above the gap joins the spans; Unix seconds work too.
	a = f.do(ops(request{target: "/api/v1/cameras/door/recordings?start=1774774800&end=1774782000&gap_tolerance=21"}))
	a.decode(t, &got)
	if len(got.Spans) != 1 || len(got.Gaps) != 0 {
		t.Errorf("with gap_tolerance=21: %s", a.body)
	}
}

// TestSummaryAcrossDST: day buckets in Europe/Berlin on the spring-forward
// day are 23 hours long, and the recording lands in its local day.
func TestSummaryAcrossDST(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 2026-03-29 01:30 UTC is 03:30 CEST, after the change at 02:00 CET.
	t0 := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	f.segment("door", t0, t0.Add(10*time.Second))
	a := f.do(ops(request{target: "/api/v1/cameras/door/summary?start=2026-03-27T23:00:00Z&end=2026-03-30T22:00:00Z&unit=day&tz=Europe/Berlin"}))
	var got struct {
		TZ      string
		Buckets []struct {
			Start, End string
			Recorded   float64
			Bytes      int64
			Fragments  int
		}
	}
	a.decode(t, &got)
	if a.code != http.StatusOK || got.TZ != "Europe/Berlin" || len(got.Buckets) != 3 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	day := got.Buckets[1]
	if day.Start != "2026-03-28T23:00:00.000Z" || day.End != "2026-03-29T22:00:00.000Z" {
		t.Errorf("the DST day is %s to %s", day.Start, day.End)
	}
	if day.Recorded != 10 || day.Fragments != 10 || day.Bytes != 10000 || got.Buckets[0].Recorded != 0 {
		t.Errorf("buckets %+v", got.Buckets)
	}
	// Too many buckets for the limit: 400.
	a = f.do(ops(request{target: "/api/v1/cameras/door/summary?start=2000-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&unit=hour"}))
	if a.code != http.StatusBadRequest || !strings.Contains(a.problem(t)["detail"].(string), "buckets") {
		t.Errorf("a 26-year hourly summary: %d %s", a.code, a.body)
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.segment("door", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 10, 1, 0, 0, time.UTC))
	hold := func(ct, body string) request {
		return ops(request{method: "POST", target: "/api/v1/holds", contentType: ct, body: body})
	}
	for _, tc := range []struct {
		name   string
		rq     request
		status int
		detail string
	}{
		{"unknown route", ops(request{target: "/api/v2/x"}), 404, "no such route"},
		{"method not allowed", ops(request{method: "PUT", target: "/api/v1/cameras"}), 405, "method not allowed"},
		{"unknown camera", ops(request{target: "/api/v1/cameras/nosuch"}), 404, "no camera nosuch"},
		{"invalid camera", ops(request{target: "/api/v1/cameras/-x"}), 400, "invalid camera name"},
		{"missing start", ops(request{target: "/api/v1/cameras/door/recordings?end=1"}), 400, "start is required"},
		{"bad time", ops(request{target: "/api/v1/cameras/door/recordings?start=yesterday&end=1"}), 400, "neither RFC 3339 nor Unix seconds"},
		{"end before start", ops(request{target: "/api/v1/cameras/door/recordings?start=10&end=5"}), 400, "end must be after start"},
		{"unknown parameter", ops(request{target: "/api/v1/cameras?camera=x"}), 400, "unknown parameter"},
		{"repeated parameter", ops(request{target: "/api/v1/cameras?tz=UTC&tz=UTC"}), 400, "given 2 times"},
		{"bad tz", ops(request{target: "/api/v1/cameras?tz=../../etc/passwd"}), 400, "tz"},
		{"bad unit", ops(request{target: "/api/v1/cameras/door/summary?start=1&end=2&unit=week"}), 400, "unit"},
		{"bad format", ops(request{target: "/api/v1/cameras/door/export.mp4?start=1&end=2&format=avi"}), 400, "format"},
		{"format on m4s", ops(request{target: "/api/v1/cameras/door/export.m4s?start=1&end=2&format=mp4"}), 400, "unknown parameter"},
		{"export error status", ops(request{target: "/api/v1/cameras/missing/export.mp4?start=1&end=2"}), 404, "no recordings"},
		{"not JSON", hold("text/plain", `{}`), 415, "application/json"},
		{"no content type", hold("", `{}`), 415, "application/json"},
		{"unknown field", hold("application/json", `{"camera":"door","from":"1","to":"2","extra":1}`), 400, "unknown field"},
		{"two values", hold("application/json", `{"camera":"door","from":"1","to":"2"} {}`), 400, "more than one"},
		{"malformed", hold("application/json", `{"camera":`), 400, "malformed JSON"},
		{"oversized", hold("application/json", `{"camera":"door","reason":"`+strings.Repeat("x", 70<<10)+`"}`), 413, "larger than"},
		{"hold backwards", hold("application/json", `{"camera":"door","from":"20","to":"10"}`), 400, "to must be after from"},
		{"hold bad camera", hold("application/json", `{"camera":"a/b","from":"1","to":"2"}`), 400, "camera"},
		{"unknown hold", ops(request{method: "DELETE", target: "/api/v1/holds/nope"}), 404, "no such hold"},
		{"unknown session", ops(request{method: "DELETE", target: "/api/v1/sessions/nope"}), 404, "no such session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do(tc.rq)
			if a.code != tc.status {
				t.Fatalf("status %d, want %d: %s", a.code, tc.status, a.body)
			}
			p := a.problem(t)
			if d, _ := p["detail"].(string); !strings.Contains(d, tc.detail) {
				t.Errorf("detail %q does not say %q", d, tc.detail)
			}
			if p["instance"] != strings.SplitN(tc.rq.target, "?", 2)[0] {
				t.Errorf("instance %v", p["instance"])
			}
		})
	}
	if a := f.do(ops(request{method: "PUT", target: "/api/v1/cameras"})); a.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

func TestHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	add := func(rq request, camera string) answer {
		rq.method, rq.target, rq.contentType = "POST", "/api/v1/holds", "application/json"
		rq.body = `{"camera":"` + camera + `","from":"2026-03-29T10:00:00Z","to":"1774780000","reason":"incident"}`
		return f.do(rq)
	}
	a := add(ops(request{}), "door")
	var h struct{ ID, Camera, From, To, Reason, Created string }
	a.decode(t, &h)
	if a.code != http.StatusCreated || a.header.Get("Location") != "/api/v1/holds/"+h.ID || h.To != "2026-03-29T10:26:40.000Z" || h.Reason != "incident" {
		t.Fatalf("%d %v %s", a.code, a.header, a.body)
	}
	robot := request{bearer: f.token, tls: true}
	if a := add(robot, "door"); a.code != http.StatusForbidden {
		t.Fatalf("robot holds door: %d", a.code)
	}
	if a := add(robot, "lobby-1"); a.code != http.StatusCreated {
		t.Fatalf("robot holds lobby-1: %d %s", a.code, a.body)
	}
	var list struct{ Holds []struct{ ID, Camera string } }
	robot.target = "/api/v1/holds"
	f.do(robot).decode(t, &list)
	if len(list.Holds) != 1 || list.Holds[0].Camera != "lobby-1" {
		t.Fatalf("robot sees %+v", list.Holds)
	}
	f.do(ops(request{target: "/api/v1/holds?camera=door"})).decode(t, &list)
	if len(list.Holds) != 1 || list.Holds[0].ID != h.ID {
		t.Fatalf("door's holds %+v", list.Holds)
	}
	robot.method, robot.target = "DELETE", "/api/v1/holds/"+h.ID
	if a := f.do(robot); a.code != http.StatusNotFound {
		t.Fatalf("robot removes door's hold: %d", a.code)
	}
	if a := f.do(ops(request{method: "DELETE", target: "/api/v1/holds/" + h.ID})); a.code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", a.code, a.body)
	}
	if hs, _ := f.archive.Holds("door"); len(hs) != 0 {
		t.Fatalf("door still has %v", hs)
	}
}

func TestStorageAndDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	f.segment("door", t0, t0.Add(time.Minute))
	f.segment("lobby-1", t0, t0.Add(2*time.Minute))
	var st struct {
		Cameras []struct {
			Camera   string
			Bytes    int64
			Segments int
		}
		DiskFree int64   `json:"disk_free"`
		DaysLeft float64 `json:"days_left"`
	}
	f.do(request{target: "/api/v1/storage", bearer: f.token, tls: true}).decode(t, &st)
	free, _, err := f.archive.DiskSpace()
	if err != nil || len(st.Cameras) != 1 || st.Cameras[0].Camera != "lobby-1" || st.Cameras[0].Bytes != 120000 || st.DiskFree <= 0 ||
		st.DiskFree > free*2 || st.DiskFree < free/2 {
		t.Fatalf("robot's storage %+v (the store says %d bytes free: %v)", st, free, err)
	}
	if st.DaysLeft != 0 { // nothing written since the store opened: no rate, no forecast (null)
		t.Errorf("days left %v with no write rate, want none", st.DaysLeft)
	}
	f.store.SetRetention(storageRetention(time.Hour))
	var dry struct {
		Cameras []struct {
			Camera   string
			Segments int
			Reasons  map[string]struct{ Segments int }
		}
		Segments int
	}
	a := f.do(ops(request{method: "POST", target: "/api/v1/retention/dry-run"}))
	a.decode(t, &dry)
	if a.code != http.StatusOK || dry.Segments != 2 || len(dry.Cameras) != 2 || dry.Cameras[0].Reasons["max_age"].Segments != 1 {
		t.Fatalf("dry run %d %s", a.code, a.body)
	}
	if segs, _ := f.store.Segments("door", time.Time{}, time.Time{}, false); len(segs) != 1 {
		t.Fatalf("the dry run deleted: %d segments left", len(segs))
	}
}
