package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/storage"
)

// TestTimesOutsideTheIndexRange: review finding 1 on issue 11. A time the
// index cannot store (before 1677 or after 2262) is refused with 400 in
// every API time parameter; before, a hold from year 1000 got 201 and then
// vanished, its start wrapped.
func TestTimesOutsideTheIndexRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	f.segment("door", t0, t0.Add(time.Second))
	hold := func(from, to string) request {
		return ops(request{method: "POST", target: "/api/v1/holds", contentType: "application/json",
			body: `{"camera":"door","from":"` + from + `","to":"` + to + `"}`})
	}
	for _, tc := range []struct {
		name string
		rq   request
	}{
		{"hold from year 1000", hold("1000-01-01T00:00:00Z", "2026-01-01T00:00:00Z")},
		{"hold 1600 to 3000", hold("1600-01-01T00:00:00Z", "3000-01-01T00:00:00Z")},
		{"hold to 2263", hold("2026-01-01T00:00:00Z", "2263-01-01T00:00:00Z")},
		{"hold to Unix 2^40", hold("1", "1099511627776")},
		{"spans to 3000", ops(request{target: "/api/v1/cameras/door/recordings?start=1&end=3000-01-01T00:00:00Z"})},
		{"summary from 1600", ops(request{target: "/api/v1/cameras/door/summary?start=1600-01-01T00:00:00Z&end=1"})},
	} {
		a := f.do(tc.rq)
		if d, _ := a.problem(t)["detail"].(string); a.code != http.StatusBadRequest || !strings.Contains(d, "outside") {
			t.Errorf("%s: %d %s, want 400 outside", tc.name, a.code, a.body)
		}
	}
	if hs, _ := f.archive.Holds(""); len(hs) != 0 {
		t.Errorf("holds stored: %+v", hs)
	}
}

// TestHoldReasonIsStorageLimit: review finding 12 on issue 11. The API takes
// a reason as long as the store keeps (storage.MaxHoldReason bytes), not
// a shorter limit of its own (it refused 257 bytes before).
func TestHoldReasonIsStorageLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hold := func(reason string) answer {
		return f.do(ops(request{method: "POST", target: "/api/v1/holds", contentType: "application/json",
			body: `{"camera":"door","from":"1","to":"2","reason":"` + reason + `"}`}))
	}
	if a := hold(strings.Repeat("x", storage.MaxHoldReason)); a.code != http.StatusCreated {
		t.Errorf("reason of MaxHoldReason bytes: %d %s", a.code, a.body)
	}
	if a := hold(strings.Repeat("x", storage.MaxHoldReason+1)); a.code != http.StatusBadRequest {
		t.Errorf("reason of MaxHoldReason+1 bytes: %d %s", a.code, a.body)
	}
}

// TestSpansAskOneMore: review finding 5 on issue 11. The recordings route
// asks the Archive for at most max_spans+1 spans (the extra one says
// truncated) instead of building every span and cutting afterwards.
func TestSpansAskOneMore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t0 := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	f.segment("door", t0, t0.Add(time.Minute))
	a := f.do(ops(request{target: "/api/v1/cameras/door/recordings?start=1&end=2000000000"}))
	f.archive.mu.Lock()
	limit := f.archive.spansLimit
	f.archive.mu.Unlock()
	if a.code != http.StatusOK || limit != api.DefaultMaxSpans+1 {
		t.Errorf("%d %s; Spans limit %d, want %d", a.code, a.body, limit, api.DefaultMaxSpans+1)
	}
}
