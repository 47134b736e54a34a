package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/camvault/camvault/auth"
)

type usageJSON struct {
	Camera   string   `json:"camera"`
	Bytes    int64    `json:"bytes"`
	Segments int      `json:"segments"`
	Oldest   jsonTime `json:"oldest"`
	Newest   jsonTime `json:"newest"`
}

type storageJSON struct {
	Cameras    []usageJSON `json:"cameras"`
	DiskFree   int64       `json:"disk_free"`
	DiskTotal  int64       `json:"disk_total"`
	IndexBytes int64       `json:"index_bytes"`
	WriteRate  float64     `json:"write_rate"`
	DaysLeft   *float64    `json:"days_left"`
}

// handleStorage answers the per-camera usage the caller may see, the disk's
// free and total bytes, the index size, the write rate (bytes/s) and the
// days until the disk is full at that rate (null when nothing is written).
func (s *Server) handleStorage(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.archive(c)
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	usage, err := a.Usage()
	if err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	out := storageJSON{Cameras: []usageJSON{}, WriteRate: a.WriteRate()}
	for _, u := range usage {
		if s.sees(c, u.Camera) {
			out.Cameras = append(out.Cameras, usageJSON{Camera: u.Camera, Bytes: u.Bytes, Segments: u.Segments,
				Oldest: jsonTime(u.Oldest), Newest: jsonTime(u.Newest)})
		}
	}
	if out.DiskFree, out.DiskTotal, err = a.DiskSpace(); err != nil {
		return fmt.Errorf("disk space: %w", err)
	}
	if out.IndexBytes, err = a.IndexSize(); err != nil {
		return fmt.Errorf("index size: %w", err)
	}
	if out.WriteRate > 0 {
		days := float64(out.DiskFree) / out.WriteRate / (24 * 3600)
		out.DaysLeft = &days
	}
	return writeJSON(w, http.StatusOK, out)
}

type reasonJSON struct {
	Segments int   `json:"segments"`
	Bytes    int64 `json:"bytes"`
}

type dryRunCameraJSON struct {
	Camera   string                `json:"camera"`
	Segments int                   `json:"segments"`
	Bytes    int64                 `json:"bytes"`
	Oldest   jsonTime              `json:"oldest"`
	Newest   jsonTime              `json:"newest"`
	Reasons  map[string]reasonJSON `json:"reasons"`
}

type dryRunJSON struct {
	At         jsonTime           `json:"at"`
	Cameras    []dryRunCameraJSON `json:"cameras"`
	Segments   int                `json:"segments"`
	Bytes      int64              `json:"bytes"`
	FloorUnmet bool               `json:"floor_unmet"`
}

// handleDryRun answers what a retention pass would delete now, by camera
// and reason, for the cameras the caller may see. It deletes nothing.
func (s *Server) handleDryRun(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.allow(c, auth.ActionAPI, ""); err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	if s.deps.Retention == nil {
		return errNotAvailable
	}
	now := s.now()
	rep, err := s.deps.Retention.RunRetention(now, true)
	if err != nil {
		return fmt.Errorf("retention dry run: %w", err)
	}
	out := dryRunJSON{At: jsonTime(now), Cameras: []dryRunCameraJSON{}, FloorUnmet: rep.Unmet != ""}
	byCam := map[string]*dryRunCameraJSON{}
	for _, d := range rep.Deleted {
		if !s.sees(c, d.Camera) {
			continue
		}
		cam := byCam[d.Camera]
		if cam == nil {
			cam = &dryRunCameraJSON{Camera: d.Camera, Oldest: jsonTime(d.Start), Reasons: map[string]reasonJSON{}}
			byCam[d.Camera] = cam
		}
		cam.Segments++
		cam.Bytes += d.Bytes
		if d.Start.Before(time.Time(cam.Oldest)) {
			cam.Oldest = jsonTime(d.Start)
		}
		if d.End.After(time.Time(cam.Newest)) {
			cam.Newest = jsonTime(d.End)
		}
		rs := cam.Reasons[d.Reason.String()]
		rs.Segments++
		rs.Bytes += d.Bytes
		cam.Reasons[d.Reason.String()] = rs
		out.Segments++
		out.Bytes += d.Bytes
	}
	for _, name := range slices.Sorted(maps.Keys(byCam)) {
		out.Cameras = append(out.Cameras, *byCam[name])
	}
	return writeJSON(w, http.StatusOK, out)
}
