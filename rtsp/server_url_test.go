package rtsp

import (
	"errors"
	"net/url"
	"testing"

	"github.com/camvault/camvault/rtsp/base"
)

// TestMatchTrack covers RTSP-URL-02, RTSP-URL-05 and RTSP-M-17.
func TestMatchTrack(t *testing.T) {
	t.Parallel()
	ff := []string{"streamid=0", "streamid=1"}
	gst := []string{"stream=0", "stream=1"}
	for _, tc := range []struct {
		name     string
		base     string
		controls []string
		setup    string
		want     int
		status   int
	}{
		{"ffmpeg base/control", "rtsp://nvr:8554/cam1", ff, "rtsp://nvr:8554/cam1/streamid=1", 1, 0},
		{"RTSP-MSG-10 other host and port, userinfo", "rtsp://nvr:8554/cam1", ff, "rtsp://u:p@10.0.0.1:554/cam1/streamid=0", 0, 0},
		{"base with trailing slash", "rtsp://h/cam1/", ff, "rtsp://h/cam1/streamid=1", 1, 0},
		{"ffmpeg control after query (App. B #2)", "rtsp://h/cam1?key=x", ff, "rtsp://h/cam1?key=x/streamid=1", 1, 0},
		{"GStreamer stream=N before query", "rtsp://h/cam1?key=x", gst, "rtsp://h/cam1/stream=1?key=x", 1, 0},
		{"GStreamer stream=N", "rtsp://h/live/cam1", gst, "rtsp://h/live/cam1/stream=0", 0, 0},
		{"RFC 3986 resolution against the Content-Base", "rtsp://h/live/cam1", []string{"trackID=0", "trackID=1"}, "rtsp://h/live/cam1/trackID=1", 1, 0},
		{"RFC 3986 resolution drops the query", "rtsp://h/archive/cam?start=1", []string{"trackID=0", "trackID=1"}, "rtsp://h/archive/cam/trackID=1", 1, 0},
		{"ffmpeg and gortsplib append to Content-Base with query", "rtsp://h/archive/cam?start=1", []string{"trackID=0", "trackID=1"}, "rtsp://h/archive/cam/?start=1/trackID=1", 1, 0},
		{"RFC 3986 against the request URL: outside 404", "rtsp://h/archive/cam?start=1", []string{"trackID=0", "trackID=1"}, "rtsp://h/archive/trackID=0", 0, 404},
		{"absolute control", "rtsp://h/cam1", []string{"rtsp://h/cam1/video", "rtsp://h/cam1/audio"}, "rtsp://other/cam1/audio", 1, 0},
		{"RTSP-M-17 aggregate of single stream", "rtsp://h/cam1", []string{"streamid=0"}, "rtsp://h/cam1/", 0, 0},
		{"control star", "rtsp://h/cam1", []string{"*"}, "rtsp://h/cam1", 0, 0},
		{"RTSP-M-17 aggregate of two streams 459", "rtsp://h/cam1", ff, "rtsp://h/cam1", 0, 459},
		{"unknown track 404", "rtsp://h/cam1", ff, "rtsp://h/cam1/streamid=2", 0, 404},
		{"other presentation 404", "rtsp://h/cam1", ff, "rtsp://h/cam2/streamid=0", 0, 404},
		{"query mismatch 404", "rtsp://h/cam1?key=x", ff, "rtsp://h/cam1/streamid=0?key=y", 0, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := matchTrack(tc.base, tc.controls, tc.setup)
			if tc.status != 0 {
				var e *base.Error
				if !errors.As(err, &e) || e.Status != tc.status {
					t.Fatalf("got %d, %v; want status %d", got, err, tc.status)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

// TestContentBase covers RTSP-URL-01: one "/" ends the path, before the
// query, so that RFC 3986 resolution stays inside the presentation.
func TestContentBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"rtsp://h:8554/archive/cam", "rtsp://h:8554/archive/cam/"},
		{"rtsp://h:8554/archive/cam/", "rtsp://h:8554/archive/cam/"},
		{"rtsp://h:8554/archive/cam?start=1795514400", "rtsp://h:8554/archive/cam/?start=1795514400"},
		{"rtsp://h:8554/archive/cam/?start=1&end=2", "rtsp://h:8554/archive/cam/?start=1&end=2"},
		{"rtsp://h:8554/archive/cam?start=1/", "rtsp://h:8554/archive/cam/?start=1"},
		{"rtsp://h:8554", "rtsp://h:8554/"},
	} {
		if got := contentBase(tc.in); got != tc.want {
			t.Errorf("contentBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
		u, err := url.Parse(contentBase(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		r := u.ResolveReference(&url.URL{Path: "trackID=0"})
		if i, err := matchTrack(tc.in, []string{"trackID=0", "trackID=1"}, r.String()); err != nil || i != 0 {
			t.Errorf("%s: RFC 3986 resolution %s: %d, %v", tc.in, r, i, err)
		}
	}
}
