//go:build interop

package interop

import (
	"bytes"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

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

// processLabels are the labels camvault's process-wide families may have, each of a few
// fixed values (reason: why a browser's live view ended): none per connection or request.
var processLabels = []string{"code", "kind", "protocol", "reason", "route", "source"}

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
