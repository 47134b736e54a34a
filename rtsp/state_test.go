package rtsp

import (
	"errors"
	"testing"

	"github.com/camvault/camvault/rtsp/base"
)

// TestNext checks every edge of the RTSP.md §3 state table, valid and
// invalid (RTSP-SES, RTSP-M-12/16/18/21/27/30).
func TestNext(t *testing.T) {
	t.Parallel()
	const (
		I  = stateInit
		A  = stateAnnounced
		R  = stateReady
		P  = statePlaying
		RR = stateReadyRecord
		RC = stateRecording
	)
	type want struct {
		next   sessionState
		status int
	}
	ok := func(s sessionState) want { return want{next: s} }
	no := func(status int) want { return want{status: status} }
	table := map[sessionState][7]want{
		//    ANNOUNCE   SETUP(play) SETUP(rec)  PLAY      RECORD    PAUSE     TEARDOWN
		I:  {ok(A), ok(R), no(455), no(454), no(454), no(454), no(454)},
		A:  {no(455), no(455), ok(RR), no(455), no(455), no(455), ok(I)},
		R:  {no(455), ok(R), no(455), ok(P), no(405), ok(R), ok(I)},
		P:  {no(455), no(455), no(455), ok(P), no(405), ok(R), ok(I)},
		RR: {no(455), no(455), ok(RR), no(405), ok(RC), ok(RR), ok(I)},
		RC: {no(455), no(455), no(455), no(405), ok(RC), ok(RR), ok(I)},
	}
	for st, row := range table {
		for ev, w := range row {
			t.Run(st.String()+"/"+event(ev).String(), func(t *testing.T) {
				got, err := next(st, event(ev))
				if w.status == 0 {
					if err != nil || got != w.next {
						t.Fatalf("got %v, %v; want %v", got, err, w.next)
					}
					return
				}
				var e *base.Error
				if !errors.As(err, &e) || e.Status != w.status || got != st {
					t.Fatalf("got %v, %v; want status %d and state unchanged", got, err, w.status)
				}
			})
		}
	}
	if len(table) != len(stateNames) {
		t.Fatalf("table covers %d states, want %d", len(table), len(stateNames))
	}
	if _, err := next(sessionState(99), evPlay); err == nil {
		t.Fatal("invalid state accepted")
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	want := []string{"init", "announced", "ready", "playing", "ready-record", "recording"}
	for i, w := range want {
		if got := sessionState(i).String(); got != w {
			t.Errorf("%d: %q", i, got)
		}
	}
	if sessionState(42).String() != "invalid" || event(42).String() != "invalid" {
		t.Error("invalid values")
	}
}

func TestAllowedMethods(t *testing.T) {
	t.Parallel()
	for st, want := range map[sessionState]string{
		stateRecording:   "OPTIONS, DESCRIBE, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
		stateReadyRecord: "OPTIONS, DESCRIBE, SETUP, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
		stateAnnounced:   "OPTIONS, DESCRIBE, SETUP, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
		stateInit:        "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, GET_PARAMETER, SET_PARAMETER",
	} {
		if got := allowedMethods(st); got != want {
			t.Errorf("%v: %q\nwant %q", st, got, want)
		}
	}
}
