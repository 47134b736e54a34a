//go:build interop

package interop

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/camvault/camvault/storage"
)

// The HTTP side of issue 11 against the real binary: /metrics, the recordings API, the MP4
// export, holds across a restart and authentication, each checked against what ffprobe,
// ffmpeg and the index say of the recordings a real ffmpeg push made.

// httpClient keeps no idle connections, so that no transport goroutine outlives a test
// (TestMain's leak check).
var httpClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

// httpDo sends one request to camvault's HTTP API (path with its query) and returns the
// response, whose body is read whole and closed. header holds name, value pairs.
func (s *server) httpDo(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	return s.send(httpClient, method, "http://"+s.http+path, body, header)
}

// httpsDo is httpDo over HTTPS, trusting the server's certificate (tlsServerLater) only.
func (s *server) httpsDo(method, path string, body []byte, header ...string) (*http.Response, []byte) {
	s.t.Helper()
	pem, err := os.ReadFile(s.cert)
	if err != nil {
		s.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		s.t.Fatalf("no certificate in %s", s.cert)
	}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return s.send(c, method, "https://"+s.https+path, body, header)
}

// send sends one request with c and returns the response with its whole body.
func (s *server) send(c *http.Client, method, target string, body []byte, header []string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp, b
}

// getJSON GETs path, wants 200 and decodes the JSON answer into v.
func (s *server) getJSON(path string, v any, header ...string) {
	s.t.Helper()
	resp, body := s.httpDo(http.MethodGet, path, nil, header...)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// scrape GETs /metrics and returns the text and its parsed families.
func (s *server) scrape(header ...string) ([]byte, map[string]*dto.MetricFamily) {
	s.t.Helper()
	resp, body := s.httpDo(http.MethodGet, "/metrics", nil, header...)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		s.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return body, fams
}

// metricValue returns the value of the series of family name whose labels are exactly
// labels (name, value pairs), and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// hasLabels reports whether m's labels are exactly the pairs of labels.
func hasLabels(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel()) != len(labels)/2 {
		return false
	}
	for i := 0; i+1 < len(labels); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
		}) {
			return false
		}
	}
	return true
}

// waitSealed waits, through /metrics, until camera has no open recording and storage has
// sealed n of its segments: what a publisher's TEARDOWN leads to.
func (s *server) waitSealed(camera string, n int, header ...string) {
	s.t.Helper()
	s.waitFor(30*time.Second, fmt.Sprintf("%s: %d segments sealed, not recording", camera, n), func() bool {
		_, fams := s.scrape(header...)
		sealed, _ := metricValue(fams, "camvault_camera_segments_sealed_total", "camera", camera)
		recording, ok := metricValue(fams, "camvault_camera_recording", "camera", camera)
		return ok && recording == 0 && sealed >= float64(n)
	})
}

// clipArgs are the encoder arguments of the HTTP tests' clips: H.264 baseline, with AAC
// withAudio.
func clipArgs(withAudio bool) []string {
	if withAudio {
		return append(slices.Clone(x264Baseline), "-c:a", "aac", "-b:a", "64k")
	}
	return x264Baseline
}

// pushClip pushes a seconds-long clip (clipArgs) to camera over TCP and fails the test when
// ffmpeg does. It returns when ffmpeg has exited, and the time it began.
func (s *server) pushClip(camera string, seconds int, withAudio bool) time.Time {
	s.t.Helper()
	start, out, err := ffmpegPushClip(s.t, "rtsp://"+s.rtsp+"/"+camera, "tcp", seconds, withAudio, clipArgs(withAudio))
	if err != nil {
		s.t.Fatalf("ffmpeg push to %s: %v\n%s\ncamvault:\n%s", camera, err, out, s.logs)
	}
	return start
}

// pushClips pushes a seconds-long clip to every camera at once (with audio where withAudio
// says so) and waits for all of them. The clips are encoded first, in the test's goroutine,
// so that a failed encode fails the test there.
func (s *server) pushClips(seconds int, withAudio map[string]bool) {
	s.t.Helper()
	for _, audio := range withAudio {
		encodedClip(s.t, seconds, audio, clipArgs(audio))
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(withAudio))
	for camera, audio := range withAudio {
		wg.Go(func() {
			if _, out, err := ffmpegPushClip(s.t, "rtsp://"+s.rtsp+"/"+camera, "tcp", seconds, audio, clipArgs(audio)); err != nil {
				errs <- fmt.Sprintf("ffmpeg push to %s: %v\n%s", camera, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		s.t.Errorf("%s", e)
	}
	if s.t.Failed() {
		s.t.Fatalf("camvault:\n%s", s.logs)
	}
}

// apiTime formats t for a query or body: RFC 3339 in UTC with nanoseconds.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// window returns the query of [start, end) plus the other key, value pairs.
func window(start, end time.Time, kv ...string) string {
	q := url.Values{"start": {apiTime(start)}, "end": {apiTime(end)}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q.Encode()
}

// spanOut is a span or gap of the recordings answer.
type spanOut struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration"`
}

type recordingsOut struct {
	Spans    []spanOut `json:"spans"`
	Gaps     []spanOut `json:"gaps"`
	Recorded float64   `json:"recorded"`
}

type summaryOut struct {
	TZ      string `json:"tz"`
	Buckets []struct {
		Start     time.Time `json:"start"`
		End       time.Time `json:"end"`
		Recorded  float64   `json:"recorded"`
		Fragments int       `json:"fragments"`
	} `json:"buckets"`
}

// cameraFamilies are the per-camera families issue 11 asks for; each must be in a scrape
// that follows a recording.
var cameraFamilies = []string{
	"camvault_camera_received_packets_total", "camvault_camera_received_bytes_total",
	"camvault_camera_lost_packets_total", "camvault_camera_late_packets_total",
	"camvault_camera_recorded_frames_total", "camvault_camera_fragments_written_total",
	"camvault_camera_fragments_dropped_total", "camvault_camera_write_duration_seconds",
	"camvault_camera_fsync_duration_seconds", "camvault_camera_write_queue_depth",
	"camvault_camera_segments_sealed_total", "camvault_camera_segments_deleted_total",
	"camvault_camera_crash_lost_seconds_total",
}

// TestHTTPMetricsFrames pushes two cameras (one with audio) for 10 s each and checks the
// scrape against the recording: the frame counter equals the video frames ffprobe counts in
// the segment files, the fragment counter the index's fragments; the text passes promlint;
// and every camvault_camera_* family has one series per camera (per reason for deletions)
// with no label but camera (and reason).
func TestHTTPMetricsFrames(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, "")
	cams := map[string]bool{"metrics-video": false, "metrics-audio": true}
	s.pushClips(10, cams)
	for cam := range cams {
		s.waitSealed(cam, 1)
	}
	text, fams := s.scrape()
	problems, err := promlint.New(bytes.NewReader(text)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	checkCardinality(t, fams, slices.Sorted(maps.Keys(cams)))
	s.stop()
	for cam := range cams {
		var frames, fragments int
		segs := s.segments(cam)
		for _, seg := range segs {
			_, _, _, n, _ := ffprobe(t, filepath.Join(s.dir, seg.File)).stream("video")
			frames += n
			fragments += len(seg.Fragments)
		}
		got, _ := metricValue(fams, "camvault_camera_recorded_frames_total", "camera", cam)
		if got != float64(frames) {
			t.Errorf("%s: camvault_camera_recorded_frames_total %v, ffprobe counts %d video frames in %d segments", cam, got, frames, len(segs))
		}
		if want := 10 * clipFPS; frames < want-fragFrames || frames > want {
			t.Errorf("%s: %d video frames recorded, want %d (at most one fragment less)", cam, frames, want)
		}
		got, _ = metricValue(fams, "camvault_camera_fragments_written_total", "camera", cam)
		if got != float64(fragments) {
			t.Errorf("%s: camvault_camera_fragments_written_total %v, the index holds %d fragments", cam, got, fragments)
		}
		for _, h := range []string{"camvault_camera_write_duration_seconds", "camvault_camera_fsync_duration_seconds"} {
			if n := histogramCount(fams, h, "camera", cam); n != uint64(fragments) {
				t.Errorf("%s: %s counts %d writes, the index holds %d fragments", cam, h, n, fragments)
			}
		}
		if got, _ = metricValue(fams, "camvault_camera_segments_sealed_total", "camera", cam); got != float64(len(segs)) {
			t.Errorf("%s: camvault_camera_segments_sealed_total %v, the index holds %d segments", cam, got, len(segs))
		}
		t.Logf("%s: %d frames, %d fragments in %d segments", cam, frames, fragments, len(segs))
	}
	if n, _ := metricValue(fams, "camvault_http_requests_total", "route", "GET /metrics", "code", "200"); n < 1 {
		t.Errorf("camvault_http_requests_total{route=\"GET /metrics\",code=\"200\"} is %v after scrapes", n)
	}
}

// histogramCount returns the sample count of the histogram of family name with exactly
// labels, 0 when there is none.
func histogramCount(fams map[string]*dto.MetricFamily, name string, labels ...string) uint64 {
	for _, m := range fams[name].GetMetric() {
		if hasLabels(m, labels) {
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// processLabels are the labels camvault's process-wide families may have: none per
// connection or request.
var processLabels = []string{"code", "kind", "protocol", "route", "source"}

// checkCardinality checks that every camvault_camera_* family has exactly one series per
// camera of cams (one per reason and camera for the deletions, the same reasons for every
// camera; the same buckets for histograms), labelled camera (and reason) only.
func checkCardinality(t *testing.T, fams map[string]*dto.MetricFamily, cams []string) {
	t.Helper()
	for _, name := range cameraFamilies {
		if fams[name] == nil {
			t.Errorf("family %s missing", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		if !strings.HasPrefix(name, "camvault_camera_") {
			checkProcessLabels(t, name, fams[name])
			continue
		}
		byReason := name == "camvault_camera_segments_deleted_total" || name == "camvault_camera_deleted_bytes_total"
		want := []string{"camera"}
		if byReason {
			want = []string{"camera", "reason"}
		}
		series := map[string][]string{} // camera -> reasons ("" without)
		buckets := map[string]int{}
		for _, m := range fams[name].GetMetric() {
			var names []string
			var camera, reason string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				switch l.GetName() {
				case "camera":
					camera = l.GetValue()
				case "reason":
					reason = l.GetValue()
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, want) {
				t.Errorf("%s has labels %v, want %v", name, names, want)
			}
			series[camera] = append(series[camera], reason)
			if h := m.GetHistogram(); h != nil {
				buckets[camera] = len(h.GetBucket())
			}
		}
		if got := slices.Sorted(maps.Keys(series)); !slices.Equal(got, cams) {
			t.Errorf("%s has series for cameras %q, want %q", name, got, cams)
			continue
		}
		first := series[cams[0]]
		slices.Sort(first)
		for _, cam := range cams {
			reasons := series[cam]
			slices.Sort(reasons)
			switch {
			case !byReason && len(reasons) != 1:
				t.Errorf("%s has %d series for %s, want 1", name, len(reasons), cam)
			case byReason && (len(slices.Compact(slices.Clone(reasons))) != len(reasons) || !slices.Equal(reasons, first)):
				t.Errorf("%s: %s has reasons %q, %s has %q: want each once, the same for every camera", name, cam, reasons, cams[0], first)
			}
			if buckets[cam] != buckets[cams[0]] {
				t.Errorf("%s: %s has %d buckets, %s %d", name, cam, buckets[cam], cams[0], buckets[cams[0]])
			}
		}
	}
}

// checkProcessLabels checks that a process-wide camvault_* family has only processLabels.
func checkProcessLabels(t *testing.T, name string, mf *dto.MetricFamily) {
	t.Helper()
	if !strings.HasPrefix(name, "camvault_") {
		return
	}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if !slices.Contains(processLabels, l.GetName()) {
				t.Errorf("%s has the label %s=%q, want only %v", name, l.GetName(), l.GetValue(), processLabels)
			}
		}
	}
}

// TestHTTPRecordingsGap records a camera, pauses 20 s, records again, and checks that the
// recordings API answers exactly two spans and one gap as long as the pause in the index
// (within 2 s), that the hourly summary in Europe/Berlin adds up to the spans, and that an
// export across the gap collapses it.
func TestHTTPRecordingsGap(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	const (
		cam   = "gapcam"
		pause = 20 * time.Second
	)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	first := s.pushClip(cam, clipSeconds, false)
	// The only sleep in these tests: the gap in the recording is the scenario itself, a
	// camera that was silent for this long (issue 11: "a recorded camera with a 20 s gap").
	time.Sleep(pause)
	s.pushClip(cam, clipSeconds, false)
	s.waitSealed(cam, 2)
	// The whole window, in whole Berlin hours, so that the summary's buckets cover it.
	from := time.Date(first.In(berlin).Year(), first.In(berlin).Month(), first.In(berlin).Day(), first.In(berlin).Hour(), 0, 0, 0, berlin)
	to := from.Add(2 * time.Hour)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+cam+"/recordings?"+window(from, to), &rec)
	var sum summaryOut
	s.getJSON("/api/v1/cameras/"+cam+"/summary?"+window(from, to, "unit", "hour", "tz", "Europe/Berlin"), &sum)
	if len(rec.Spans) == 2 && len(rec.Gaps) == 1 {
		checkGapExport(t, s, cam, rec)
	}
	s.stop()
	segs := s.segments(cam)
	if len(segs) != 2 {
		t.Fatalf("the index holds %d segments, want 2", len(segs))
	}
	if len(rec.Spans) != 2 || len(rec.Gaps) != 1 {
		t.Fatalf("recordings: %d spans and %d gaps, want 2 and 1: %+v", len(rec.Spans), len(rec.Gaps), rec)
	}
	indexGap := segs[1].Start.Sub(segs[0].End)
	gap := rec.Gaps[0]
	if d := gap.End.Sub(gap.Start); (d-indexGap).Abs() > 2*time.Second || d < pause-time.Second {
		t.Errorf("gap of %v, the index says %v (want within 2s) and the pause was %v", d, indexGap, pause)
	}
	if !gap.Start.Equal(rec.Spans[0].End) || !gap.End.Equal(rec.Spans[1].Start) {
		t.Errorf("gap %v..%v is not between the spans %+v", gap.Start, gap.End, rec.Spans)
	}
	var longest time.Duration
	for i, seg := range segs {
		sp := rec.Spans[i]
		if (sp.Start.Sub(seg.Start)).Abs() > time.Millisecond || (sp.End.Sub(seg.End)).Abs() > time.Millisecond {
			t.Errorf("span %d is %v..%v, the segment %v..%v", i, sp.Start, sp.End, seg.Start, seg.End)
		}
		for _, f := range seg.Fragments {
			longest = max(longest, f.Duration)
		}
	}
	spanSum := rec.Spans[0].Duration + rec.Spans[1].Duration
	if math.Abs(rec.Recorded-spanSum) > 0.002 {
		t.Errorf("recorded %.3fs, the spans add up to %.3fs", rec.Recorded, spanSum)
	}
	if sum.TZ != "Europe/Berlin" || len(sum.Buckets) != 2 {
		t.Fatalf("summary in %q with %d buckets, want Europe/Berlin and 2: %+v", sum.TZ, len(sum.Buckets), sum)
	}
	var bucketSum float64
	for _, b := range sum.Buckets {
		bucketSum += b.Recorded
		if b.End.Sub(b.Start) != time.Hour || b.Start.In(berlin).Minute() != 0 || b.Start.In(berlin).Second() != 0 {
			t.Errorf("bucket %v..%v is not a whole Berlin hour", b.Start, b.End)
		}
	}
	if d := math.Abs(bucketSum - spanSum); d > longest.Seconds() {
		t.Errorf("summary records %.3fs, the spans %.3fs: off by more than one fragment (%v)", bucketSum, spanSum, longest)
	}
	t.Logf("spans %+v, gap %v (index %v), summary %.3fs", rec.Spans, gap.End.Sub(gap.Start), indexGap, bucketSum)
}

// checkGapExport exports a window across the gap of rec, from 1 s into the first span to 1 s
// before the end of the second: the gap is collapsed, so the MP4 lasts the recorded part of
// the window, holds its frames and decodes cleanly, and the headers name the gap.
func checkGapExport(t *testing.T, s *server, cam string, rec recordingsOut) {
	t.Helper()
	start, end := rec.Spans[0].Start.Add(time.Second), rec.Spans[1].End.Add(-time.Second)
	recorded := rec.Spans[0].End.Sub(start) + end.Sub(rec.Spans[1].Start)
	resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/"+cam+"/export.mp4?"+window(start, end), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.mp4 across the gap: %s\n%s", resp.Status, body)
	}
	gapFrom, gapTo, _ := strings.Cut(resp.Header.Get("X-Camvault-Gaps"), "/")
	from, err1 := time.Parse(time.RFC3339Nano, gapFrom)
	to, err2 := time.Parse(time.RFC3339Nano, gapTo)
	if resp.Header.Get("X-Camvault-Gap-Count") != "1" || err1 != nil || err2 != nil ||
		from.Sub(rec.Gaps[0].Start).Abs() > time.Millisecond || to.Sub(rec.Gaps[0].End).Abs() > time.Millisecond {
		t.Errorf("X-Camvault-Gap-Count %q, X-Camvault-Gaps %q: want the API's one gap %v..%v", resp.Header.Get("X-Camvault-Gap-Count"),
			resp.Header.Get("X-Camvault-Gaps"), rec.Gaps[0].Start, rec.Gaps[0].End)
	}
	file := filepath.Join(t.TempDir(), "gap.mp4")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, file)
	p := ffprobe(t, file)
	var dur float64
	frame := time.Second / clipFPS
	if _, err := fmt.Sscan(p.Format.Duration, &dur); err != nil || math.Abs(dur-recorded.Seconds()) > frame.Seconds() {
		t.Errorf("the export across the gap lasts %q s, want the recorded %v within one frame", p.Format.Duration, recorded)
	}
	_, _, _, frames, _ := p.stream("video")
	if want := int(recorded / frame); frames < want-1 || frames > want+1 {
		t.Errorf("the export across the gap presents %d frames, want %d within one", frames, want)
	}
	t.Logf("export across the gap: %s s, %d frames, gap of %v collapsed", p.Format.Duration, frames, to.Sub(from))
}

// TestHTTPExport records 12 s and exports a 6 s window that starts mid-GOP: the progressive
// MP4 has the window's duration within one frame and decodes cleanly, a Range in the middle
// is that slice of the whole, two requests give the same ETag and bytes and If-None-Match
// gives 304; the fragmented export decodes cleanly with the frames from the keyframe before
// the window's start to its end.
func TestHTTPExport(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	const cam = "exportcam"
	s := startServerLater(t, "")
	recordArchive(t, s.dir, "numbered", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)
	checkNumberedExport(t, s)
	s.pushClip(cam, 12, false)
	s.waitSealed(cam, 1)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+cam+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Fatalf("%d spans, want 1: %+v", len(rec.Spans), rec)
	}
	// Keyframes come every clipFPS frames, one second apart: 2.5 s in is mid-GOP.
	start := rec.Spans[0].Start.Add(2500 * time.Millisecond)
	end := start.Add(6 * time.Second)
	frame := time.Second / clipFPS
	path := "/api/v1/cameras/" + cam + "/export.mp4?" + window(start, end)
	resp, full := s.httpDo(http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.mp4: %s\n%s", resp.Status, full)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("export headers %v: want an ETag, Accept-Ranges: bytes, video/mp4", resp.Header)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, cam+"_"+start.UTC().Format("20060102T150405Z")) {
		t.Errorf("Content-Disposition %q does not name the camera and start", cd)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, full, 0o644); err != nil {
		t.Fatal(err)
	}
	p := ffprobe(t, file)
	if len(p.Streams) != 1 || p.Streams[0].CodecType != "video" || p.Streams[0].CodecName != "h264" {
		t.Errorf("export streams %+v, want one h264 video", p.Streams)
	}
	var dur float64
	if _, err := fmt.Sscan(p.Format.Duration, &dur); err != nil || math.Abs(dur-end.Sub(start).Seconds()) > frame.Seconds() {
		t.Errorf("export lasts %q s, want %v within one frame (%v)", p.Format.Duration, end.Sub(start), frame)
	}
	decodeClean(t, file)
	_, _, _, frames, _ := p.stream("video")
	if want := int(end.Sub(start) / frame); frames < want-1 || frames > want+1 {
		t.Errorf("export.mp4 presents %d frames, want %d within one", frames, want)
	}
	t.Logf("export.mp4: %d bytes, %s s, %d frames", len(full), p.Format.Duration, frames)
	from, to := len(full)/3, 2*len(full)/3
	resp, part := s.httpDo(http.MethodGet, path, nil, "Range", fmt.Sprintf("bytes=%d-%d", from, to))
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[from:to+1]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, to, len(full)) {
		t.Errorf("Range %d-%d: %s, Content-Range %q, %d bytes equal to the slice: %v", from, to, resp.Status,
			resp.Header.Get("Content-Range"), len(part), bytes.Equal(part, full[from:min(to+1, len(full))]))
	}
	resp, again := s.httpDo(http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag || !bytes.Equal(again, full) {
		t.Errorf("second GET: %s, ETag %q (first %q), same bytes: %v", resp.Status, resp.Header.Get("ETag"), etag, bytes.Equal(again, full))
	}
	if resp, body := s.httpDo(http.MethodGet, path, nil, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %s with %d bytes, want 304 and none", resp.Status, len(body))
	}
	mediaStart := checkFragmentedExport(t, s, cam, start, end)
	s.stop()
	// The fragmented export begins at a keyframe fragment of the index.
	segs := s.segments(cam)
	if len(segs) != 1 || !slices.ContainsFunc(segs[0].Fragments, func(f storage.Fragment) bool {
		return f.Key && f.Start.Sub(mediaStart).Abs() <= time.Millisecond
	}) {
		t.Errorf("export.m4s starts at %v, not at a keyframe fragment of the index", mediaStart)
	}
}

// checkNumberedExport exports windows of the frame-numbered archive that start mid-GOP and
// checks the decoded frames: the edit list makes the first one the frame at the window's
// start, and a seek 10 s in shows the frame of that instant (checkSeekFrames: ffmpeg's -ss
// may start one frame late).
func checkNumberedExport(t *testing.T, s *server) {
	t.Helper()
	for _, tc := range []struct {
		name        string
		from, to    time.Duration // into the archive
		seek        string        // ffmpeg -ss; "" for none
		first, want int           // frame number first, frames decoded
	}{
		{name: "mid-GOP start", from: 30*time.Second + 480*time.Millisecond, to: 34*time.Second + 480*time.Millisecond, first: 762, want: 100},
		{name: "seek to 30s", from: 20 * time.Second, to: 40 * time.Second, seek: "10", first: 750, want: 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end := archiveStart.Add(tc.from), archiveStart.Add(tc.to)
			resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/numbered/export.mp4?"+window(start, end), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET export.mp4: %s\n%s", resp.Status, body)
			}
			file := filepath.Join(t.TempDir(), "numbered.mp4")
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			var args []string
			if tc.seek != "" {
				args = append(args, "-ss", tc.seek)
			}
			checkSeekFrames(t, decodeGray(t, time.Minute, append(args, "-i", file)...), tc.first, tc.want)
		})
	}
}

// checkFragmentedExport GETs export.m4s of [start, end): it must decode cleanly and hold the
// frames from its first keyframe (X-Camvault-Start, the last one at or before start) to end,
// within one frame. It returns X-Camvault-Start.
func checkFragmentedExport(t *testing.T, s *server, cam string, start, end time.Time) time.Time {
	t.Helper()
	resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/"+cam+"/export.m4s?"+window(start, end), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.m4s: %s\n%s", resp.Status, body)
	}
	mediaStart, err := time.Parse(time.RFC3339Nano, resp.Header.Get("X-Camvault-Start"))
	if err != nil {
		t.Fatalf("X-Camvault-Start: %v", err)
	}
	if mediaStart.After(start) || start.Sub(mediaStart) > time.Second+time.Second/clipFPS {
		t.Errorf("export.m4s starts at %v, want the keyframe at most one GOP before %v", mediaStart, start)
	}
	file := filepath.Join(t.TempDir(), "export.m4s")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, file)
	_, _, _, frames, _ := ffprobe(t, file).stream("video")
	want := int(math.Ceil(end.Sub(mediaStart).Seconds() * clipFPS))
	if frames < want-1 || frames > want+1 {
		t.Errorf("export.m4s holds %d frames, want %d within one (from %v to %v)", frames, want, mediaStart, end)
	}
	t.Logf("export.m4s: %d bytes, %d frames from %v", len(body), frames, mediaStart)
	return mediaStart
}

// holdOut is a hold as the API answers it.
type holdOut struct {
	ID     string    `json:"id"`
	Camera string    `json:"camera"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// dryRunOut is the answer of a retention dry run.
type dryRunOut struct {
	Cameras []dryRunCamera `json:"cameras"`
}

// dryRunCamera is one camera of a dry run.
type dryRunCamera struct {
	Camera   string                     `json:"camera"`
	Segments int                        `json:"segments"`
	Reasons  map[string]json.RawMessage `json:"reasons"`
}

// TestHTTPHoldsRestart adds a hold over one camera's recording through the API, restarts
// camvault with a max_age that both recordings have passed, and checks that the hold is
// still listed, that the start-up retention pass deleted the other camera's recording and
// kept the held one, and that a dry run lists a new recording of the other camera but
// nothing of the held one.
func TestHTTPHoldsRestart(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	const (
		held, free = "heldcam", "freecam"
		maxAge     = 2 * time.Second
	)
	s := startServer(t, "")
	s.pushClips(clipSeconds, map[string]bool{held: false, free: false})
	s.waitSealed(held, 1)
	s.waitSealed(free, 1)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+held+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Fatalf("%s: %d spans, want 1", held, len(rec.Spans))
	}
	want := holdOut{Camera: held, Reason: "incident 4711",
		From: rec.Spans[0].Start.Add(time.Second).Truncate(time.Millisecond), To: rec.Spans[0].Start.Add(2 * time.Second).Truncate(time.Millisecond)}
	body := fmt.Sprintf(`{"camera":%q,"from":%q,"to":%q,"reason":%q}`, want.Camera, apiTime(want.From), apiTime(want.To), want.Reason)
	resp, out := s.httpDo(http.MethodPost, "/api/v1/holds", []byte(body), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/holds: %s\n%s", resp.Status, out)
	}
	var added holdOut
	if err := json.Unmarshal(out, &added); err != nil {
		t.Fatal(err)
	}
	if want.ID = added.ID; added != want || resp.Header.Get("Location") != "/api/v1/holds/"+url.PathEscape(added.ID) {
		t.Errorf("added %+v at %q, want %+v", added, resp.Header.Get("Location"), want)
	}
	// Retention keeps a segment until its end is max_age old: let the free camera's get there
	// before the restart, so that the pass at start deletes it.
	var freeRec recordingsOut
	s.getJSON("/api/v1/cameras/"+free+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &freeRec)
	if len(freeRec.Spans) != 1 {
		t.Fatalf("%s: %d spans, want 1", free, len(freeRec.Spans))
	}
	s.waitFor(30*time.Second, free+": recording older than max_age", func() bool {
		return time.Since(freeRec.Spans[0].End) > maxAge+time.Second
	})
	s.stop()
	s.writeConfig(fmt.Sprintf("retention: {max_age: %v, interval: 1h}\n", maxAge))
	s.start()
	var holds struct{ Holds []holdOut }
	s.getJSON("/api/v1/holds", &holds)
	if len(holds.Holds) != 1 || holds.Holds[0] != want {
		t.Errorf("after the restart the holds are %+v, want %+v", holds.Holds, want)
	}
	// The retention pass at start deleted the free camera's segment and kept the held one.
	s.waitFor(30*time.Second, free+": segment deleted by max_age", func() bool {
		_, fams := s.scrape()
		n, _ := metricValue(fams, "camvault_camera_segments_deleted_total", "camera", free, "reason", "max_age")
		return n == 1
	})
	s.getJSON("/api/v1/cameras/"+held+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Errorf("%s: %d spans after retention, want its held recording", held, len(rec.Spans))
	}
	// A new recording of the free camera: the dry run lists it once it is older than max_age,
	// and never the held one (the next real pass is an hour away).
	s.pushClip(free, clipSeconds, false)
	s.waitSealed(free, 1)
	var dry dryRunOut
	s.waitFor(30*time.Second, "a dry run listing "+free, func() bool {
		resp, out := s.httpDo(http.MethodPost, "/api/v1/retention/dry-run", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/v1/retention/dry-run: %s\n%s", resp.Status, out)
		}
		dry = dryRunOut{}
		if err := json.Unmarshal(out, &dry); err != nil {
			t.Fatal(err)
		}
		return len(dry.Cameras) > 0
	})
	for _, c := range dry.Cameras {
		switch {
		case c.Camera == held:
			t.Errorf("the dry run would delete %d held segments of %s", c.Segments, held)
		case c.Camera != free || c.Segments != 1 || c.Reasons["max_age"] == nil:
			t.Errorf("the dry run lists %+v, want one segment of %s for max_age", c, free)
		}
	}
	// Without its hold, the held camera's recording is due too.
	if resp, out := s.httpDo(http.MethodDelete, "/api/v1/holds/"+url.PathEscape(want.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE the hold: %s\n%s", resp.Status, out)
	}
	if s.getJSON("/api/v1/holds", &holds); len(holds.Holds) != 0 {
		t.Errorf("holds after DELETE: %+v", holds.Holds)
	}
	resp, out = s.httpDo(http.MethodPost, "/api/v1/retention/dry-run", nil)
	dry = dryRunOut{}
	if err := json.Unmarshal(out, &dry); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v1/retention/dry-run: %s %v\n%s", resp.Status, err, out)
	}
	if !slices.ContainsFunc(dry.Cameras, func(c dryRunCamera) bool { return c.Camera == held && c.Reasons["max_age"] != nil }) {
		t.Errorf("without the hold the dry run lists %+v, want %s for max_age", dry.Cameras, held)
	}
}

// TestHTTPAuth runs camvault with users and checks the HTTP API's authentication on the real
// binary: a bearer token from `camvault token` and a Basic password from loopback and over
// HTTPS (the RTSPS certificate) work, a
// user without the api right gets 403, an anonymous caller 401 with the challenges, all as
// problem+json; refused credentials count in camvault_auth_failures_total; /healthz needs
// nothing.
func TestHTTPAuth(t *testing.T) {
	t.Parallel()
	out, err := run(t, time.Minute, camvaultBinary(t), "token", "-user", "tokuser")
	if err != nil {
		t.Fatalf("camvault token: %v\n%s", err, out)
	}
	var token, tokensLine string
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			token = strings.TrimSpace(v)
		}
		if strings.HasPrefix(strings.TrimSpace(line), "tokens: [") {
			tokensLine = strings.TrimRight(line, "\n")
		}
	}
	if token == "" || tokensLine == "" {
		t.Fatalf("camvault token printed no token or tokens line:\n%s", out)
	}
	users := usersYAML(t, []testUser{{"apiuser", "api", "*"}, {"viewer", "playback", "*"}}) +
		"  - name: tokuser\n" + tokensLine + "\n    permissions: [{action: api, cameras: [\"*\"]}, {action: metrics}]\n"
	s, _ := tlsServerLater(t, users)
	s.start()
	t.Cleanup(s.stop)
	bearer := []string{"Authorization", "Bearer " + token}
	basic := func(user, password string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
	}
	var cams struct{ Cameras []json.RawMessage }
	s.getJSON("/api/v1/cameras", &cams, bearer...)
	s.getJSON("/api/v1/cameras", &cams, basic("apiuser", "resuipa")...)
	// Over HTTPS (the RTSPS certificate) Basic works as from loopback, and anonymous is refused.
	if resp, body := s.httpsDo(http.MethodGet, "/api/v1/cameras", nil, basic("apiuser", "resuipa")...); resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("Basic over HTTPS: %s, TLS %v\n%s", resp.Status, resp.TLS != nil, body)
	}
	if resp, body := s.httpsDo(http.MethodGet, "/api/v1/cameras", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous over HTTPS: %s\n%s", resp.Status, body)
	}
	var health struct{ Status string }
	if s.getJSON("/healthz", &health); health.Status != "ok" {
		t.Errorf("/healthz says %q", health.Status)
	}
	for _, tc := range []struct {
		name   string
		path   string
		header []string
		status int
	}{
		{"anonymous", "/api/v1/cameras", nil, http.StatusUnauthorized},
		{"anonymous metrics", "/metrics", nil, http.StatusUnauthorized},
		{"no api right", "/api/v1/cameras", basic("viewer", "reweiv"), http.StatusForbidden},
		{"no metrics right", "/metrics", basic("apiuser", "resuipa"), http.StatusForbidden},
		{"wrong password", "/api/v1/cameras", basic("apiuser", "nope"), http.StatusUnauthorized},
		{"wrong token", "/api/v1/cameras", []string{"Authorization", "Bearer cvt_nope"}, http.StatusUnauthorized},
	} {
		resp, body := s.httpDo(http.MethodGet, tc.path, nil, tc.header...)
		var p struct{ Status int }
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(body, &p) != nil || p.Status != tc.status {
			t.Errorf("%s: %s, %q: %s; want %d as application/problem+json", tc.name, resp.Status, resp.Header.Get("Content-Type"), body, tc.status)
		}
		challenges := resp.Header.Values("WWW-Authenticate")
		if tc.status == http.StatusUnauthorized && (len(challenges) != 2 ||
			!strings.HasPrefix(challenges[0], "Basic ") || !strings.HasPrefix(challenges[1], "Bearer ")) {
			t.Errorf("%s: WWW-Authenticate %q, want the Basic and Bearer challenges", tc.name, challenges)
		}
	}
	_, fams := s.scrape(bearer...)
	if n, _ := metricValue(fams, "camvault_auth_failures_total", "protocol", "http"); n != 2 {
		t.Errorf("camvault_auth_failures_total{protocol=\"http\"} is %v after a wrong password and a wrong token, want 2", n)
	}
}
