package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
)

// urlCameras is a camera source of pulled cameras with the given URLs.
type urlCameras []string

func (u urlCameras) Cameras(time.Time) ([]api.Camera, error) {
	var out []api.Camera
	for i, raw := range u {
		out = append(out, api.Camera{Name: "cam" + string(rune('a'+i)), Source: "pull", URL: raw})
	}
	return out, nil
}

func (u urlCameras) Camera(name string, now time.Time) (api.Camera, bool, error) {
	cams, _ := u.Cameras(now)
	for _, cam := range cams {
		if cam.Name == name {
			return cam, true, nil
		}
	}
	return api.Camera{}, false, nil
}

// TestCameraURLRedacted: a pulled camera's URL loses its userinfo and the
// values of credential-like query parameters, in any case (review finding
// 9); other parameters stay.
func TestCameraURLRedacted(t *testing.T) {
	src := urlCameras{
		"rtsp://admin:s3cret@192.0.2.10/stream1",
		"rtsp://192.0.2.11/cgi?channel=1&User=admin&PASSWORD=s3cret&pwd=s3cret&token=s3cret&subtype=0",
		"rtsp://192.0.2.12/live?auth=s3cret;bad",
		"rtsp://192.0.2.13/live?channel=2&subtype=1",
	}
	rec := getLoopback(newLoopbackServer(t, api.Config{}, api.Deps{Cameras: src}), "/api/v1/cameras")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || strings.Contains(body, "s3cret") || strings.Contains(body, "admin") {
		t.Fatalf("status %d, credentials shown: %s", rec.Code, body)
	}
	for _, want := range []string{"channel=1", "subtype=0", `"rtsp://192.0.2.13/live?channel=2\u0026subtype=1"`, "PASSWORD=redacted"} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s: %s", want, body)
		}
	}
}

// listlessCameras is the fixture's camera source whose list must not be
// asked.
type listlessCameras struct {
	storeCameras
	listed *int
}

func (c listlessCameras) Cameras(now time.Time) ([]api.Camera, error) {
	*c.listed++
	return c.storeCameras.Cameras(now)
}

// TestOneCameraLookup: the routes about one camera look that camera up
// alone, never build the whole list (review finding 7), and still answer
// 404 for a camera nobody knows.
func TestOneCameraLookup(t *testing.T) {
	f := newFixture(t)
	day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	f.segment("door", day.Add(10*time.Hour), day.Add(10*time.Hour+time.Minute))
	listed := 0
	srv := newLoopbackServer(t, api.Config{}, api.Deps{Archive: f.archive,
		Cameras: listlessCameras{storeCameras: storeCameras{f.store}, listed: &listed}})
	window := "?start=2026-03-29T00:00:00Z&end=2026-03-30T00:00:00Z"
	for target, want := range map[string]int{
		"/api/v1/cameras/door":                       http.StatusOK,
		"/api/v1/cameras/door/recordings" + window:   http.StatusOK,
		"/api/v1/cameras/door/summary" + window:      http.StatusOK,
		"/api/v1/cameras/nobody/recordings" + window: http.StatusNotFound,
		"/api/v1/cameras/nobody":                     http.StatusNotFound,
	} {
		if rec := getLoopback(srv, target); rec.Code != want {
			t.Errorf("%s: %d %s, want %d", target, rec.Code, rec.Body, want)
		}
	}
	if listed != 0 {
		t.Errorf("the camera list was built %d times for routes about one camera", listed)
	}
}

// ownedCameras lists one camera owned by another node of a cluster and one
// outside any.
type ownedCameras struct{}

func (ownedCameras) Cameras(time.Time) ([]api.Camera, error) {
	return []api.Camera{{Name: "door", Source: "push", Owner: "node2"}, {Name: "yard", Source: "push"}}, nil
}

func (o ownedCameras) Camera(name string, now time.Time) (api.Camera, bool, error) {
	cams, _ := o.Cameras(now)
	for _, cam := range cams {
		if cam.Name == name {
			return cam, true, nil
		}
	}
	return api.Camera{}, false, nil
}

// TestCameraOwner: in a cluster a camera shows the node that owns it;
// outside one the field is absent.
func TestCameraOwner(t *testing.T) {
	srv := newLoopbackServer(t, api.Config{}, api.Deps{Cameras: ownedCameras{}})
	if body := getLoopback(srv, "/api/v1/cameras/door").Body.String(); !strings.Contains(body, `"owner":"node2"`) {
		t.Errorf("door: %s", body)
	}
	if body := getLoopback(srv, "/api/v1/cameras/yard").Body.String(); strings.Contains(body, `"owner"`) {
		t.Errorf("yard: %s", body)
	}
}
