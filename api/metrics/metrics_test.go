package metrics_test

import (
	"errors"
	"maps"
	"math"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/storage"
)

// recordThree records cam1, cam2 and cam3 for 3, 2 and 1 s (3, 2 and 1 fragments) and
// feeds the storage observer their writes; it returns the frames sent by camera.
func recordThree(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	frames := map[string]int{}
	for i, cam := range []string{"cam1", "cam2", "cam3"} {
		frames[cam] = f.record(t, cam, 3-i)
		f.observeWrites(cam)
	}
	return frames
}

// rtspStats is what a server with two RTSP connections, one RTSPS connection, a publisher
// and a viewer reports.
func rtspStats() metrics.RTSPStats {
	return metrics.RTSPStats{Connections: map[string]int{"rtsp": 2, "rtsps": 1},
		Sessions: map[string]int{"publish": 1, "live": 1}, SlowClients: 4, UDPDrops: 5}
}

// tierStats is what a tier behind on two segments after a failed attempt reports.
func tierStats() metrics.TierStats {
	return metrics.TierStats{UploadedSegments: 7, UploadedBytes: 7 << 20, Failures: 1, Refused: 2, DeletedObjects: 3,
		BacklogSegments: 2, BacklogBytes: 3 << 20, OldestPending: 1500 * time.Millisecond, Unreachable: true}
}

func TestLintWithRealData(t *testing.T) {
	f := newFixture(t, metrics.Sources{
		Tier:      tierStats,
		RTSP:      rtspStats,
		DiskSpace: func() (int64, int64, error) { return 1 << 30, 4 << 30, nil },
		IndexSize: func() (int64, error) { return 1 << 20, nil },
	})
	recordThree(t, f)
	f.m.ObserveHTTP("GET /api/v1/cameras", 200, 3*time.Millisecond)
	f.m.ObservePlayStart(80 * time.Millisecond)
	f.m.AuthFailure("rtsp")
	problems, err := testutil.GatherAndLint(f.m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// Every scrape-time series matches its descriptor's labels.
	pedantic, err := metrics.PedanticRegistry(f.m)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(pedantic); err != nil || n < 3*25 {
		t.Errorf("pedantic gather: %d series, %v", n, err)
	}
}

func TestCameraCountersAreExact(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	frames := recordThree(t, f)
	fams := gather(t, f.m)
	for _, tc := range []struct {
		name string
		want map[string]float64
	}{
		{"camvault_camera_recorded_frames_total",
			map[string]float64{"camera=cam1": float64(frames["cam1"]), "camera=cam2": 50, "camera=cam3": 25}},
		{"camvault_camera_fragments_written_total", map[string]float64{"camera=cam1": 3, "camera=cam2": 2, "camera=cam3": 1}},
		{"camvault_camera_segments_started_total", map[string]float64{"camera=cam1": 1, "camera=cam2": 1, "camera=cam3": 1}},
		{"camvault_camera_segments_sealed_total", map[string]float64{"camera=cam1": 1, "camera=cam2": 1, "camera=cam3": 1}},
		{"camvault_camera_fragments_dropped_total", map[string]float64{"camera=cam1": 0, "camera=cam2": 0, "camera=cam3": 0}},
		{"camvault_camera_lost_packets_total", map[string]float64{"camera=cam1": 0, "camera=cam2": 0, "camera=cam3": 0}},
		{"camvault_camera_recording", map[string]float64{"camera=cam1": 0, "camera=cam2": 0, "camera=cam3": 0}},
		{"camvault_camera_state", map[string]float64{"camera=cam1": 0, "camera=cam2": 0, "camera=cam3": 0}},
		{"camvault_camera_write_duration_seconds", map[string]float64{"camera=cam1": 3, "camera=cam2": 2, "camera=cam3": 1}},
		{"camvault_camera_fsync_duration_seconds", map[string]float64{"camera=cam1": 3, "camera=cam2": 2, "camera=cam3": 1}},
	} {
		if got := values(fams[tc.name]); !maps.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Bytes: what the recorder and storage say, per camera.
	for _, st := range f.rec.CameraStats() {
		c := f.store.Counters(st.Camera)
		label := "camera=" + st.Camera
		if got := values(fams["camvault_camera_received_packets_total"])[label]; got != float64(st.Packets) || got == 0 {
			t.Errorf("%s: %v packets received, the recorder says %d", st.Camera, got, st.Packets)
		}
		if got := values(fams["camvault_camera_written_bytes_total"])[label]; got != float64(c.BytesWritten) || got == 0 {
			t.Errorf("%s: %v bytes written, storage says %d", st.Camera, got, c.BytesWritten)
		}
		if got := values(fams["camvault_camera_last_fragment_timestamp_seconds"])[label]; got != float64(st.LastFragment.UnixNano())/1e9 {
			t.Errorf("%s: last fragment at %v, the recorder says %v", st.Camera, got, st.LastFragment)
		}
	}
}

// seriesCounts returns, per camvault_camera_ family, how many series it has and, for
// histograms, how many buckets each has.
func seriesCounts(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	out := map[string]int{}
	for name, fam := range gather(t, f.m) {
		if !strings.HasPrefix(name, "camvault_camera_") {
			continue
		}
		out[name] = len(fam.GetMetric())
		for _, m := range fam.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				out[name+" buckets"] += len(h.GetBucket())
			}
		}
	}
	return out
}

func TestCardinalityIsOneSetPerCamera(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	recordThree(t, f)
	before := seriesCounts(t, f)
	if len(before) < 20 {
		t.Fatalf("only %d per-camera families: %v", len(before), before)
	}
	reasons := storage.NumDeleteReasons - 1
	for name, n := range before {
		want := 3
		switch {
		case strings.HasSuffix(name, " buckets"):
			want = 3 * 9 // the per-camera latency buckets
		case strings.Contains(name, "deleted"):
			want = 3 * reasons
		}
		if n != want {
			t.Errorf("%s: %d series, want %d", name, n, want)
		}
	}
	// A second recording, scraped while it is open and after more fragments, changes no
	// count.
	rec := f.open(t, "cam1")
	f.send(t, rec, 2)
	if open := seriesCounts(t, f); !maps.Equal(open, before) {
		t.Errorf("series while cam1 records:\n%v\nbefore:\n%v", open, before)
	}
	if got := values(gather(t, f.m)["camvault_camera_recording"]); got["camera=cam1"] != 1 {
		t.Errorf("recording %v, want cam1 at 1", got)
	}
	f.send(t, rec, 1)
	rec.Close()
	rec.Wait()
	f.observeWrites("cam1")
	if after := seriesCounts(t, f); !maps.Equal(after, before) {
		t.Errorf("series after more fragments:\n%v\nbefore:\n%v", after, before)
	}
}

// TestForgottenCameraLeavesNoSeries feeds the observer a camera that neither storage nor the
// recorder knows (one they forgot): the next scrape drops its histogram series.
func TestForgottenCameraLeavesNoSeries(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	f.record(t, "cam1", 1)
	f.observeWrites("cam1")
	f.m.StorageObserver().FragmentWritten("gone", 1000, time.Millisecond, 0)
	for range 2 {
		fams := gather(t, f.m)
		for _, name := range []string{"camvault_camera_write_duration_seconds", "camvault_camera_fsync_duration_seconds"} {
			if got := slices.Sorted(maps.Keys(values(fams[name]))); !slices.Equal(got, []string{"camera=cam1"}) {
				t.Errorf("%s has series %v, want cam1's only", name, got)
			}
		}
	}
	// The camera comes back: so do its series.
	f.record(t, "gone", 1)
	f.observeWrites("gone")
	if got := values(gather(t, f.m)["camvault_camera_write_duration_seconds"])["camera=gone"]; got != 1 {
		t.Errorf("%v writes of the camera that came back, want 1", got)
	}
}

func TestHTTPAndAuthCounters(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	f.m.ObserveHTTP("GET /api/v1/cameras", 200, 3*time.Millisecond)
	f.m.ObserveHTTP("GET /api/v1/cameras", 200, 30*time.Millisecond)
	f.m.ObserveHTTP("GET /api/v1/cameras/{camera}", 404, time.Millisecond)
	f.m.ObserveHTTP("GET /api/v1/cameras/{camera}", 403, time.Millisecond)
	f.m.AuthFailure("rtsp")
	f.m.AuthFailure("http")
	f.m.AuthFailure("http")
	f.m.AuthFailure("ftp")
	f.m.ObservePlayStart(20 * time.Millisecond)
	for range 3 {
		f.m.LiveStarted()
	}
	f.m.LiveEnded("slow")
	f.m.LiveEnded("gremlins")
	fams := gather(t, f.m)
	for _, tc := range []struct {
		name string
		want map[string]float64
	}{
		{"camvault_http_requests_total", map[string]float64{
			"code=200,route=GET /api/v1/cameras": 2, "code=404,route=GET /api/v1/cameras/{camera}": 1,
			"code=403,route=GET /api/v1/cameras/{camera}": 1}},
		{"camvault_http_request_duration_seconds", map[string]float64{
			"route=GET /api/v1/cameras": 2, "route=GET /api/v1/cameras/{camera}": 2}},
		{"camvault_auth_failures_total", map[string]float64{"protocol=rtsp": 1, "protocol=http": 2, "protocol=other": 1}},
		{"camvault_playback_play_start_seconds", map[string]float64{"": 1}},
		{"camvault_http_live_views", map[string]float64{"": 1}},
		{"camvault_http_live_views_ended_total", map[string]float64{
			"reason=client": 0, "reason=camera": 0, "reason=slow": 1, "reason=shutdown": 0, "reason=error": 1,
			"reason=moved": 0, "reason=owner": 0}},
	} {
		if got := values(fams[tc.name]); !maps.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	h := fams["camvault_http_request_duration_seconds"].GetMetric()[0].GetHistogram()
	if sum := h.GetSampleSum(); math.Abs(sum-0.033) > 1e-9 {
		t.Errorf("request durations sum to %v s, want 0.033", sum)
	}
}

func TestProcessSeries(t *testing.T) {
	diskErr := errors.New("statfs failed")
	var failDisk bool
	rate := 1e6
	f := newFixture(t, metrics.Sources{
		RTSP: func() metrics.RTSPStats {
			return metrics.RTSPStats{Sessions: map[string]int{"playback": 3, "tunnel": 1}}
		},
		DiskSpace: func() (int64, int64, error) {
			if failDisk {
				return 0, 0, diskErr
			}
			return 5e9, 8e9, nil
		},
		IndexSize: func() (int64, error) { return 65536, nil },
		WriteRate: func() float64 { return rate },
	})
	fams := gather(t, f.m)
	for name, want := range map[string]map[string]float64{
		"camvault_disk_free_bytes":                     {"": 5e9},
		"camvault_disk_size_bytes":                     {"": 8e9},
		"camvault_storage_write_rate_bytes_per_second": {"": 1e6},
		"camvault_disk_full_forecast_seconds":          {"": 5000},
		"camvault_index_size_bytes":                    {"": 65536},
		"camvault_rtsp_connections":                    {"kind=rtsp": 0, "kind=rtsps": 0},
		"camvault_rtsp_sessions":                       {"kind=publish": 0, "kind=live": 0, "kind=playback": 3, "kind=pull": 0, "kind=tunnel": 1},
		"camvault_rtsp_slow_clients_total":             {"": 0},
	} {
		if got := values(fams[name]); !maps.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Nothing written: no forecast. The disk cannot be read: no disk series, one error.
	rate, failDisk = 0, true
	fams = gather(t, f.m)
	for _, name := range []string{"camvault_disk_full_forecast_seconds", "camvault_disk_free_bytes", "camvault_disk_size_bytes"} {
		if fams[name] != nil {
			t.Errorf("%s present: %v", name, values(fams[name]))
		}
	}
	if got := values(fams["camvault_metrics_source_errors_total"]); got["source=disk"] != 1 || got["source=index"] != 0 {
		t.Errorf("source errors %v, want one of the disk", got)
	}
}

// TestTierSeries: the tier's counters and backlog are exported as they are read at the
// scrape, and a node without tiering has no tier series.
func TestTierSeries(t *testing.T) {
	st := tierStats()
	f := newFixture(t, metrics.Sources{Tier: func() metrics.TierStats { return st }})
	check := func(want map[string]float64) {
		t.Helper()
		fams := gather(t, f.m)
		for name, v := range want {
			if got := values(fams[name]); !maps.Equal(got, map[string]float64{"": v}) {
				t.Errorf("%s = %v, want %v", name, got, v)
			}
		}
	}
	check(map[string]float64{
		"camvault_tier_uploaded_segments_total": 7, "camvault_tier_uploaded_bytes_total": 7 << 20,
		"camvault_tier_upload_failures_total": 1, "camvault_tier_refused_segments_total": 2,
		"camvault_tier_deleted_objects_total": 3, "camvault_tier_backlog_segments": 2,
		"camvault_tier_backlog_bytes": 3 << 20, "camvault_tier_oldest_pending_seconds": 1.5,
		"camvault_tier_store_unreachable": 1,
	})
	st.UploadedSegments, st.BacklogSegments, st.BacklogBytes, st.OldestPending, st.Unreachable = 9, 0, 0, 0, false
	check(map[string]float64{"camvault_tier_uploaded_segments_total": 9, "camvault_tier_backlog_segments": 0,
		"camvault_tier_backlog_bytes": 0, "camvault_tier_oldest_pending_seconds": 0, "camvault_tier_store_unreachable": 0})

	none := newFixture(t, metrics.Sources{})
	for name := range gather(t, none.m) {
		if strings.HasPrefix(name, "camvault_tier_") {
			t.Errorf("%s without tiering", name)
		}
	}
}

// TestWriteRateFromCameras leaves Sources.WriteRate unset: the rate is the cameras' bitrates.
func TestWriteRateFromCameras(t *testing.T) {
	f := newFixture(t, metrics.Sources{DiskSpace: func() (int64, int64, error) { return 1e9, 2e9, nil }})
	f.record(t, "cam1", 2)
	var want float64
	for _, st := range f.rec.CameraStats() {
		want += st.Bitrate / 8
	}
	fams := gather(t, f.m)
	if got := values(fams["camvault_storage_write_rate_bytes_per_second"])[""]; got != want || want == 0 {
		t.Errorf("write rate %v, want the cameras' %v bytes/s", got, want)
	}
	if got := values(fams["camvault_disk_full_forecast_seconds"])[""]; got != 1e9/want {
		t.Errorf("forecast %v s, want %v", got, 1e9/want)
	}
}

// TestHandlerServesText scrapes the handler as Prometheus does and parses the answer.
func TestHandlerServesText(t *testing.T) {
	f := newFixture(t, metrics.Sources{RTSP: rtspStats, Tier: tierStats})
	frames := recordThree(t, f)
	w := httptest.NewRecorder()
	f.m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"camera=cam1": float64(frames["cam1"]), "camera=cam2": float64(frames["cam2"]),
		"camera=cam3": float64(frames["cam3"])}
	if got := values(fams["camvault_camera_recorded_frames_total"]); !maps.Equal(got, want) {
		t.Errorf("frames %v, want %v", got, want)
	}
	if got := values(fams["camvault_rtsp_connections"]); !maps.Equal(got, map[string]float64{"kind=rtsp": 2, "kind=rtsps": 1}) {
		t.Errorf("connections %v", got)
	}
	if got := values(fams["camvault_tier_backlog_bytes"]); got[""] != 3<<20 {
		t.Errorf("tier backlog %v, want 3 MiB", got)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "camvault_camera_write_duration_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

// TestScrapesWhileRecording gathers again and again while another goroutine records: the
// race detector checks the snapshots, and the counters only grow.
func TestScrapesWhileRecording(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	rec := f.open(t, "cam1")
	type result struct {
		frames int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		n, err := f.sendMedia(rec, 10)
		rec.Close()
		rec.Wait()
		done <- result{n, err}
	}()
	var last map[string]float64
	for frames := -1; frames < 0; {
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			frames = r.frames
		default:
		}
		fams := gather(t, f.m)
		now := map[string]float64{}
		for _, name := range []string{"camvault_camera_received_packets_total", "camvault_camera_recorded_frames_total",
			"camvault_camera_fragments_written_total", "camvault_camera_written_bytes_total"} {
			now[name] = values(fams[name])["camera=cam1"]
			if now[name] < last[name] {
				t.Fatalf("%s went back from %v to %v", name, last[name], now[name])
			}
		}
		last = now
		if frames >= 0 && last["camvault_camera_recorded_frames_total"] != float64(frames) {
			t.Errorf("%v frames after the recording ended, want %d", last["camvault_camera_recorded_frames_total"], frames)
		}
	}
}

// TestPeerCounters: Sources.Peer's failures are served as counters, and only with it.
func TestPeerCounters(t *testing.T) {
	f := newFixture(t, metrics.Sources{Peer: func() (uint64, uint64) { return 3, 7 }})
	fams := gather(t, f.m)
	if l, r := values(fams["camvault_peer_list_failures_total"])[""], values(fams["camvault_peer_read_failures_total"])[""]; l != 3 || r != 7 {
		t.Errorf("peer failures %v listings, %v reads; want 3 and 7", l, r)
	}
	if fams := gather(t, newFixture(t, metrics.Sources{}).m); fams["camvault_peer_list_failures_total"] != nil {
		t.Error("peer series without Sources.Peer")
	}
}
