package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/storage"
)

// cameraJSON is a camera in the API.
type cameraJSON struct {
	Name          string        `json:"name"`
	Source        string        `json:"source"`
	URL           string        `json:"url,omitempty"`
	State         CameraState   `json:"state"`
	LastError     string        `json:"last_error,omitempty"`
	LastErrorTime jsonTime      `json:"last_error_time"`
	NextRetry     jsonTime      `json:"next_retry"`
	Tracks        []string      `json:"tracks"`
	Bitrate       float64       `json:"bitrate"`
	LastFragment  jsonTime      `json:"last_fragment"`
	Today         *todayJSON    `json:"today"`
	AlwaysOn      bool          `json:"always_on"`
	Schedule      []windowJSON  `json:"schedule"`
	Retention     retentionJSON `json:"retention"`
	Owner         string        `json:"owner,omitempty"`
}

// todayJSON is what a camera recorded on the current calendar day of TZ.
type todayJSON struct {
	TZ string `json:"tz"`
	bucketJSON
}

type windowJSON struct {
	Start jsonTime `json:"start"`
	End   jsonTime `json:"end"`
}

type retentionJSON struct {
	MaxAge   seconds `json:"max_age"`
	MinAge   seconds `json:"min_age"`
	MaxBytes int64   `json:"max_bytes"`
}

// handleCameras lists the cameras the caller may see. ?tz= sets the zone
// of "today" (the server's zone by default).
func (s *Server) handleCameras(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.allow(c, auth.ActionAPI, ""); err != nil {
		return err
	}
	loc, err := tzOnly(r)
	if err != nil {
		return err
	}
	cams, err := s.cameras()
	if err != nil {
		return err
	}
	out := []cameraJSON{}
	for _, cam := range cams {
		if s.sees(c, cam.Name) {
			out = append(out, s.cameraJSON(cam, loc))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
}

// handleCamera answers one camera.
func (s *Server) handleCamera(w http.ResponseWriter, r *http.Request, c *caller) error {
	name, err := s.cameraParam(r, c, auth.ActionAPI)
	if err != nil {
		return err
	}
	loc, err := tzOnly(r)
	if err != nil {
		return err
	}
	cam, err := s.camera(name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.cameraJSON(cam, loc))
}

// tzOnly parses a query that may hold tz only: the zone of "today", the
// server's by default.
func tzOnly(r *http.Request) (*time.Location, error) {
	q, err := parseQuery(r, "tz")
	if err != nil {
		return nil, err
	}
	return q.location(time.Local)
}

// cameraParam returns the {camera} of r after checking that c may do
// action on it (first, so that the answer tells nothing about a camera the
// caller may not see) and that it is a valid name.
func (s *Server) cameraParam(r *http.Request, c *caller, action auth.Action) (string, error) {
	name := r.PathValue("camera")
	if err := s.allow(c, action, name); err != nil {
		return "", err
	}
	if err := storage.ValidCamera(name); err != nil {
		return "", errStatus(http.StatusBadRequest, "invalid camera name: want 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit")
	}
	return name, nil
}

// cameras returns every camera, or 503 without a camera source.
func (s *Server) cameras() ([]Camera, error) {
	if s.deps.Cameras == nil {
		return nil, errNotAvailable
	}
	return s.deps.Cameras.Cameras(s.now())
}

// camera returns the camera called name, 404 when nobody knows it, or 503
// without a camera source.
func (s *Server) camera(name string) (Camera, error) {
	if s.deps.Cameras == nil {
		return Camera{}, errNotAvailable
	}
	cam, ok, err := s.deps.Cameras.Camera(name, s.now())
	if err != nil {
		return Camera{}, err
	}
	if !ok {
		return Camera{}, errStatus(http.StatusNotFound, "no camera "+name)
	}
	return cam, nil
}

// cameraJSON renders cam; "today" comes from the archive's day summary in
// loc, null without an archive or when it fails.
func (s *Server) cameraJSON(cam Camera, loc *time.Location) cameraJSON {
	out := cameraJSON{
		Name: cam.Name, Source: cam.Source, URL: withoutCredentials(cam.URL), State: cam.State,
		LastError: cam.LastError, LastErrorTime: jsonTime(cam.LastErrorTime), NextRetry: jsonTime(cam.NextRetry),
		Tracks: cam.Tracks, Bitrate: cam.Bitrate, LastFragment: jsonTime(cam.LastFragment),
		AlwaysOn: cam.AlwaysOn, Schedule: []windowJSON{}, Owner: cam.Owner,
		Retention: retentionJSON{MaxAge: seconds(cam.Retention.MaxAge), MinAge: seconds(cam.Retention.MinAge), MaxBytes: cam.Retention.MaxBytes},
	}
	if out.Tracks == nil {
		out.Tracks = []string{}
	}
	for _, win := range cam.Schedule {
		out.Schedule = append(out.Schedule, windowJSON{Start: jsonTime(win.Start), End: jsonTime(win.End)})
	}
	out.Today = s.today(cam.Name, loc)
	return out
}

// today summarises the current calendar day of loc.
func (s *Server) today(camera string, loc *time.Location) *todayJSON {
	if s.deps.Archive == nil {
		return nil
	}
	now := s.now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 1)
	sums, err := s.deps.Archive.Summaries(camera, start, end, storage.SummaryDay, loc)
	if err != nil {
		s.log.Warn("day summary failed", "camera", camera, "err", err)
		return nil
	}
	t := &todayJSON{TZ: loc.String(), bucketJSON: bucketJSON{Start: jsonTime(start), End: jsonTime(end)}}
	for _, b := range sums {
		t.Recorded += seconds(b.Recorded)
		t.Bytes += b.Bytes
		t.Segments += b.Segments
		t.Fragments += b.Fragments
	}
	return t
}

// withoutCredentials strips the userinfo of a URL and redacts the values of
// query parameters that cameras use for credentials (secretParams, any
// case); a URL that does not parse is dropped whole rather than risk
// showing a password.
func withoutCredentials(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = ""
			return u.String()
		}
		redacted := false
		for k, vs := range q {
			if secretParams[strings.ToLower(k)] {
				for i := range vs {
					vs[i] = redactedValue
				}
				redacted = true
			}
		}
		if redacted {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretParams are the query parameter names (lower case) whose values
// withoutCredentials redacts.
var secretParams = map[string]bool{
	"user": true, "username": true, "usr": true, "login": true, "pass": true, "password": true, "passwd": true,
	"pwd": true, "token": true, "access_token": true, "auth": true, "key": true, "apikey": true, "api_key": true,
	"secret": true, "sig": true, "signature": true,
}

// redactedValue replaces a secret query value.
const redactedValue = "redacted"
