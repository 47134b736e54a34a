package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/auth"
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

// TestCameraURLRedacted: a pulled camera's URL loses its userinfo and the
// values of credential-like query parameters, in any case (review finding
// 9); other parameters stay.
func TestCameraURLRedacted(t *testing.T) {
	a, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	src := urlCameras{
		"rtsp://admin:s3cret@192.0.2.10/stream1",
		"rtsp://192.0.2.11/cgi?channel=1&User=admin&PASSWORD=s3cret&pwd=s3cret&token=s3cret&subtype=0",
		"rtsp://192.0.2.12/live?auth=s3cret;bad",
		"rtsp://192.0.2.13/live?channel=2&subtype=1",
	}
	srv, err := api.New(api.Config{}, api.Deps{Authority: a, Cameras: src})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/cameras", nil)
	req.RemoteAddr = loopback
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
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
