package api_test

import (
	"net/http"
	"testing"

	"github.com/camvault/camvault/api"
)

// TestSessionWithoutCameraHidden: a session whose path names no camera is
// listed and kickable only for callers whose api right covers every camera,
// not for a user scoped to some cameras (review finding 10).
func TestSessionWithoutCameraHidden(t *testing.T) {
	f := newFixture(t)
	f.sessions.mu.Lock()
	f.sessions.list = append(f.sessions.list, api.Session{ID: "s2", Kind: "rtsp", Mode: "play", Path: "/no/camera", Peer: "192.0.2.11:6000"})
	f.sessions.mu.Unlock()
	ids := func(rq request) map[string]bool {
		t.Helper()
		var list struct{ Sessions []struct{ ID string } }
		f.do(rq).decode(t, &list)
		out := map[string]bool{}
		for _, s := range list.Sessions {
			out[s.ID] = true
		}
		return out
	}
	robot := request{target: "/api/v1/sessions", bearer: f.token, tls: true}
	if got := ids(robot); got["s2"] || !got["pull/lobby-1"] || got["s1"] {
		t.Errorf("robot (api on lobby-*) sees %v, want pull/lobby-1 only", got)
	}
	if got := ids(ops(request{target: "/api/v1/sessions"})); !got["s2"] || !got["s1"] {
		t.Errorf("ops (api everywhere) sees %v, want s1 and s2 too", got)
	}
	robot.method, robot.target = http.MethodDelete, "/api/v1/sessions/s2"
	if a := f.do(robot); a.code != http.StatusNotFound {
		t.Errorf("robot kicks s2: %d, want 404", a.code)
	}
	if a := f.do(ops(request{method: http.MethodDelete, target: "/api/v1/sessions/s2"})); a.code != http.StatusNoContent {
		t.Errorf("ops kicks s2: %d %s, want 204", a.code, a.body)
	}
}
