package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/storage"
)

type spanJSON struct {
	Start    jsonTime `json:"start"`
	End      jsonTime `json:"end"`
	Duration seconds  `json:"duration"`
}

func newSpanJSON(start, end time.Time) spanJSON {
	return spanJSON{Start: jsonTime(start), End: jsonTime(end), Duration: seconds(end.Sub(start))}
}

type recordingsJSON struct {
	Camera       string     `json:"camera"`
	Start        jsonTime   `json:"start"`
	End          jsonTime   `json:"end"`
	GapTolerance seconds    `json:"gap_tolerance"`
	Spans        []spanJSON `json:"spans"`
	Gaps         []spanJSON `json:"gaps"`
	Recorded     seconds    `json:"recorded"`
	Truncated    bool       `json:"truncated"`
}

// archiveCamera is the common start of the archive routes: the camera
// (rights first), the archive, and 404 for a camera nobody knows.
func (s *Server) archiveCamera(r *http.Request, c *caller) (string, error) {
	name, err := s.cameraParam(r, c, auth.ActionAPI)
	if err != nil {
		return "", err
	}
	if s.deps.Archive == nil {
		return "", errNotAvailable
	}
	if s.deps.Cameras != nil {
		if _, err := s.camera(name); err != nil {
			return "", err
		}
	}
	return name, nil
}

// handleRecordings answers the spans of recording of one camera in
// [start, end), joined across gaps up to gap_tolerance, and the gaps
// between them. At most Config.MaxSpans spans; truncated says the answer
// was cut (ask again from the last span's end).
func (s *Server) handleRecordings(w http.ResponseWriter, r *http.Request, c *caller) error {
	name, err := s.archiveCamera(r, c)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "start", "end", "gap_tolerance")
	if err != nil {
		return err
	}
	start, end, err := q.window()
	if err != nil {
		return err
	}
	tol := s.cfg.DefaultGapTolerance
	if v := q.get("gap_tolerance"); v != "" {
		if tol, err = parseSpan(v, maxGapTolerance); err != nil {
			return errStatus(http.StatusBadRequest, "gap_tolerance: "+err.Error())
		}
	}
	spans, err := s.deps.Archive.Spans(name, start, end, tol, s.cfg.MaxSpans+1) // one more says truncated
	if err != nil {
		return fmt.Errorf("spans of %s: %w", name, err)
	}
	out := recordingsJSON{Camera: name, Start: jsonTime(start), End: jsonTime(end), GapTolerance: seconds(tol),
		Spans: make([]spanJSON, 0, min(len(spans), s.cfg.MaxSpans)), Gaps: []spanJSON{}}
	if len(spans) > s.cfg.MaxSpans {
		spans, out.Truncated = spans[:s.cfg.MaxSpans], true
	}
	for i, sp := range spans {
		out.Spans = append(out.Spans, newSpanJSON(sp.Start, sp.End))
		out.Recorded += seconds(sp.End.Sub(sp.Start))
		if i > 0 && sp.Start.After(spans[i-1].End) {
			out.Gaps = append(out.Gaps, newSpanJSON(spans[i-1].End, sp.Start))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

type bucketJSON struct {
	Start     jsonTime `json:"start"`
	End       jsonTime `json:"end"`
	Recorded  seconds  `json:"recorded"`
	Bytes     int64    `json:"bytes"`
	Segments  int      `json:"segments"`
	Fragments int      `json:"fragments"`
}

type summaryJSON struct {
	Camera  string       `json:"camera"`
	Start   jsonTime     `json:"start"`
	End     jsonTime     `json:"end"`
	Unit    string       `json:"unit"`
	TZ      string       `json:"tz"`
	Buckets []bucketJSON `json:"buckets"`
}

// handleSummary answers per-hour or per-day buckets of one camera in the
// time zone tz (the server's by default). A window of more buckets than
// storage's max_summary_buckets gets 400 from the Archive.
func (s *Server) handleSummary(w http.ResponseWriter, r *http.Request, c *caller) error {
	name, err := s.archiveCamera(r, c)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "start", "end", "unit", "tz")
	if err != nil {
		return err
	}
	start, end, err := q.window()
	if err != nil {
		return err
	}
	unit := storage.SummaryHour
	switch q.get("unit") {
	case "", "hour":
	case "day":
		unit = storage.SummaryDay
	default:
		return errStatus(http.StatusBadRequest, "unit must be hour or day")
	}
	loc, err := q.location(time.Local)
	if err != nil {
		return err
	}
	sums, err := s.deps.Archive.Summaries(name, start, end, unit, loc)
	if err != nil {
		return fmt.Errorf("summaries of %s: %w", name, err)
	}
	out := summaryJSON{Camera: name, Start: jsonTime(start), End: jsonTime(end), Unit: unit.String(), TZ: loc.String(), Buckets: []bucketJSON{}}
	for _, b := range sums {
		out.Buckets = append(out.Buckets, bucketJSON{Start: jsonTime(b.Start), End: jsonTime(b.End), Recorded: seconds(b.Recorded),
			Bytes: b.Bytes, Segments: b.Segments, Fragments: b.Fragments})
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleExportMP4 serves export.mp4: progressive MP4, or fragmented with
// ?format=fmp4.
func (s *Server) handleExportMP4(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.export(w, r, c, "mp4", "start", "end", "format")
}

// handleExportM4S serves export.m4s: fragmented MP4 streamed as it is read.
func (s *Server) handleExportM4S(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.export(w, r, c, "fmp4", "start", "end")
}

// export checks the playback right on the camera and the window, and hands
// the request to the Exporter.
func (s *Server) export(w http.ResponseWriter, r *http.Request, c *caller, format string, params ...string) error {
	name, err := s.cameraParam(r, c, auth.ActionPlayback)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, params...)
	if err != nil {
		return err
	}
	start, end, err := q.window()
	if err != nil {
		return err
	}
	switch q.get("format") {
	case "", "mp4":
	case "fmp4":
		format = "fmp4"
	default:
		return errStatus(http.StatusBadRequest, "format must be mp4 or fmp4")
	}
	if s.deps.Exporter == nil {
		return errNotAvailable
	}
	return s.deps.Exporter.ServeExport(w, r, name, start, end, format)
}
