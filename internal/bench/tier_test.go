package bench

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParsePushTier(t *testing.T) {
	t.Parallel()
	o, err := parsePush([]string{"-tier", "-weed", "/opt/weed", "-weed-dir", "/dev/shm", "-tier-segment", "5s", "-tier-scan", "200ms",
		"-tier-concurrency", "8", "-tier-drain", "30s", "-tier-sample-every", "1s", "-duration", "20s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := tierOptions{on: true, weed: "/opt/weed", weedDir: "/dev/shm", segment: 5 * time.Second, scan: 200 * time.Millisecond,
		concurrency: 8, drain: 30 * time.Second, sample: time.Second}
	if o.tier != want {
		t.Errorf("tier options %+v, want %+v", o.tier, want)
	}
	if r := o.tier.rounds(); len(r) != 2 || r[0] || !r[1] {
		t.Errorf("rounds %v, want untiered then tiered", r)
	}
	if got, want := o.tier.conf(""), "recorder: {segment_duration: 5s}\n"; got != want {
		t.Errorf("untiered conf %q, want %q", got, want)
	}
	got := o.tier.conf("127.0.0.1:9000")
	for _, w := range []string{"recorder: {segment_duration: 5s}\n", `tier: {endpoint: "127.0.0.1:9000", bucket: "camvault-bench"`,
		`access_key: "camvault-bench", secret_key: "camvault-bench-secret"`, "scan_interval: 200ms", "upload_concurrency: 8}\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("tiered conf %q lacks %q", got, w)
		}
	}
	o, err = parsePush([]string{"-tier"}, io.Discard)
	if err != nil || o.tier.segment != defaultTierSegment || o.tier.concurrency != 0 || strings.Contains(o.tier.conf("x:1"), "upload_concurrency") {
		t.Errorf("-tier defaults %+v, %v", o.tier, err)
	}
}

// metricsText is a /metrics answer of a tiered camvault with two cameras,
// one of them still recording.
const metricsText = `# HELP camvault_camera_segments_started_total Segments started.
# TYPE camvault_camera_segments_started_total counter
camvault_camera_segments_started_total{camera="a"} 5
camvault_camera_segments_started_total{camera="b"} 5
# TYPE camvault_camera_segments_sealed_total counter
camvault_camera_segments_sealed_total{camera="a"} 4
camvault_camera_segments_sealed_total{camera="b"} 5
# TYPE camvault_camera_written_bytes_total counter
camvault_camera_written_bytes_total{camera="a"} 2e+07
camvault_camera_written_bytes_total{camera="b"} 2.5e+07
# TYPE camvault_tier_uploaded_bytes_total counter
camvault_tier_uploaded_bytes_total 3.5e+07
# TYPE camvault_tier_uploaded_segments_total counter
camvault_tier_uploaded_segments_total 7
# TYPE camvault_tier_upload_failures_total counter
camvault_tier_upload_failures_total 1
# TYPE camvault_tier_backlog_segments gauge
camvault_tier_backlog_segments 2
# TYPE camvault_tier_backlog_bytes gauge
camvault_tier_backlog_bytes 1e+07
# TYPE camvault_tier_oldest_pending_seconds gauge
camvault_tier_oldest_pending_seconds 12.5
`

func TestParseTierSample(t *testing.T) {
	t.Parallel()
	at := time.Unix(100, 0)
	got, err := parseTierSample(strings.NewReader(metricsText), at)
	if err != nil {
		t.Fatal(err)
	}
	want := tierSample{at: at, uploadedBytes: 35e6, uploadedSegments: 7, failures: 1, backlogSegments: 2, backlogBytes: 1e7,
		oldestPending: 12.5, startedSegments: 10, sealedSegments: 9, writtenBytes: 45e6}
	if got != want {
		t.Errorf("sample %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		name string
		s    tierSample
		want bool
	}{
		{"a segment open, two waiting", got, false},
		{"all sealed, two waiting", tierSample{startedSegments: 9, sealedSegments: 9, uploadedSegments: 7, backlogSegments: 2}, false},
		{"all sealed and uploaded but one open", tierSample{startedSegments: 10, sealedSegments: 9, uploadedSegments: 9}, false},
		{"all sealed and uploaded", tierSample{startedSegments: 9, sealedSegments: 9, uploadedSegments: 9}, true},
		{"nothing recorded", tierSample{}, false},
	} {
		if d := tc.s.drained(); d != tc.want {
			t.Errorf("%s: drained = %v", tc.name, d)
		}
	}
	// Without tiering the tier's series are absent: zero.
	untiered, err := parseTierSample(strings.NewReader(metricsText[:strings.Index(metricsText, "# TYPE camvault_tier")]), at)
	if err != nil || untiered.uploadedBytes != 0 || untiered.sealedSegments != 9 {
		t.Errorf("untiered sample %+v, %v", untiered, err)
	}
	if _, err := parseTierSample(strings.NewReader("camvault_tier_backlog_segments{ 2\n"), at); err == nil {
		t.Error("a broken answer parsed")
	}
}

func TestSummarizeTier(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	sample := func(s float64, bytes, backlog, oldest float64) tierSample {
		return tierSample{at: t0.Add(time.Duration(s * float64(time.Second))), uploadedBytes: bytes, writtenBytes: 2 * bytes, backlogSegments: backlog,
			backlogBytes: backlog * 4e6, oldestPending: oldest, startedSegments: 12, sealedSegments: 10}
	}
	window := []tierSample{sample(0, 0, 1, 3), sample(2, 8e6, 5, 14), sample(4, 20e6, 2, 6)}
	end := t0.Add(10 * time.Second)
	last := tierSample{at: end.Add(1500 * time.Millisecond), uploadedSegments: 12, startedSegments: 12, sealedSegments: 12, failures: 3}
	for _, tc := range []struct {
		name    string
		window  []tierSample
		last    tierSample
		want    tierResult
		keepsUp bool // with 10s segments and a 1s scan: at most 21 s of waiting
	}{
		{"drained", window, last, tierResult{uploadRate: 5e6, writeRate: 10e6, maxBacklog: 5, maxBacklogBytes: 20e6, maxOldest: 14, endBacklog: 2,
			failures: 3, drained: true, drainTime: 1500 * time.Millisecond, uploaded: 12, sealed: 12}, true},
		{"not drained", window, tierSample{at: end, uploadedSegments: 11, startedSegments: 12, sealedSegments: 12},
			tierResult{uploadRate: 5e6, writeRate: 10e6, maxBacklog: 5, maxBacklogBytes: 20e6, maxOldest: 14, endBacklog: 2, uploaded: 11, sealed: 12}, false},
		{"fell behind", append(window, sample(6, 22e6, 9, 30)), last, tierResult{uploadRate: 22e6 / 6, writeRate: 44e6 / 6, maxBacklog: 9, maxBacklogBytes: 36e6,
			maxOldest: 30, endBacklog: 9, failures: 3, drained: true, drainTime: 1500 * time.Millisecond, uploaded: 12, sealed: 12}, false},
		{"one sample", window[:1], last, tierResult{maxBacklog: 1, maxBacklogBytes: 4e6, maxOldest: 3, failures: 3, drained: true,
			drainTime: 1500 * time.Millisecond, uploaded: 12, sealed: 12}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summarizeTier(tc.window, tc.last, end)
			if got != tc.want {
				t.Errorf("result %+v\nwant   %+v", got, tc.want)
			}
			if k := got.keepsUp(10*time.Second, time.Second); k != tc.keepsUp {
				t.Errorf("keepsUp = %v, want %v", k, tc.keepsUp)
			}
		})
	}
}

func TestTierCostAndLines(t *testing.T) {
	t.Parallel()
	o := tierOptions{segment: 10 * time.Second, scan: time.Second, drain: time.Minute}
	tr := &tierResult{uploadRate: 75e6, writeRate: 76e6, maxBacklog: 210, maxBacklogBytes: 840e6, maxOldest: 12, drained: true,
		drainTime: 4 * time.Second, uploaded: 1200, sealed: 1200, weedCPU: 30 * time.Second, wall: 50 * time.Second}
	base, tiered := &pushResult{cpu: 0.5}, &pushResult{cpu: 0.9, tier: tr}
	if got, want := tierCost(base, tiered, 200, o), "tiering costs camvault +40.0% of a core (+0.200% per camera) over the round without; keeps up: yes"; got != want {
		t.Errorf("cost %q\nwant %q", got, want)
	}
	want := "tier: upload 75.0 MB/s (76.0 MB/s written); backlog max 210 segments / 840.0 MB, oldest waited 12.0 s, 0 at the window's end; " +
		"drained 4.0 s after the streams (1200/1200 segments uploaded, 0 failed attempts); weed 30.0 cpu-s = 60.0% of a core"
	if got := tr.String(); got != want {
		t.Errorf("line %q\nwant %q", got, want)
	}
	tr.drained = false
	if got := tierCost(base, tiered, 200, o); !strings.HasSuffix(got, "keeps up: NO (not drained within 1m0s of the streams' end)") {
		t.Errorf("cost of an undrained round %q", got)
	}
	tr.drained, tr.maxOldest = true, 40
	if got := tierCost(base, tiered, 200, o); !strings.Contains(got, "NO (a segment waited 40.0 s") {
		t.Errorf("cost of a round that fell behind %q", got)
	}
}

func TestParseLoadavg(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"5.76 2.75 1.76 4/146 30795\n", "5.76 2.75 1.76", true},
		{"0.00 0.01 0.05 1/80 1", "0.00 0.01 0.05", true},
		{"5.76 2.75", "", false},
		{"a b c 1/2 3", "", false},
	} {
		got, err := parseLoadavg([]byte(tc.in))
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseLoadavg(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
