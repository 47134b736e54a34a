package metrics

import (
	"bytes"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/camvault/camvault/storage"
)

// rowsCollector sends collectCamera's series of fixed rows, as Collect does after scrape.
type rowsCollector struct {
	c    *collector
	rows []*cameraRow
}

func (r rowsCollector) Describe(ch chan<- *prometheus.Desc) { r.c.Describe(ch) }

func (r rowsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, row := range r.rows {
		r.c.collectCamera(ch, row)
	}
}

// families splits text-format output into its families' blocks, by name.
func families(tb testing.TB, text []byte) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for block := range strings.SplitSeq(string(text), "# HELP ") {
		if block == "" {
			continue
		}
		name, _, _ := strings.Cut(block, " ")
		if _, dup := out[name]; dup {
			tb.Fatalf("family %s twice", name)
		}
		out[name] = "# HELP " + block
	}
	return out
}

// viaExpfmt returns rows' families as the registry gathers them and expfmt writes them.
func viaExpfmt(tb testing.TB, c *collector, rows []*cameraRow) map[string]string {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(rowsCollector{c, rows})
	fams, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			tb.Fatal(err)
		}
	}
	return families(tb, buf.Bytes())
}

// testRow returns a row of camera whose counters, deletions, last fragment and histograms
// are derived from n, at and lat.
func testRow(c *collector, camera string, n uint64, at time.Time, lat time.Duration) *cameraRow {
	r := &cameraRow{name: camera, hasRec: true, labels: c.labelsOf(camera)}
	r.rec.Camera, r.rec.Packets, r.rec.Bytes, r.rec.Lost, r.rec.Frames = camera, n, n*1400, n/7, n/3
	r.rec.Bitrate, r.rec.Buffered, r.rec.Active, r.rec.LastFragment = float64(n)*8.5, n%1e6, n%2 == 0, at
	r.st.FragmentsWritten, r.st.BytesWritten, r.st.LostToCrash = n/60, n*1399, time.Duration(n)*time.Microsecond
	for reason := 1; reason < storage.NumDeleteReasons; reason++ {
		r.st.Deleted[reason] = storage.DeletedCount{Segments: n / uint64(reason+1), Bytes: n * uint64(reason)}
	}
	var l cameraLatency
	for i := range 5 {
		l.observe(lat*time.Duration(i+1), lat/time.Duration(i+1))
	}
	w, s := l.write.snapshot(), l.sync.snapshot()
	r.write, r.sync = &w, &s
	return r
}

// checkText compares appendText with expfmt, family by family.
func checkText(t *testing.T, rows []*cameraRow) {
	t.Helper()
	c := newCollector(nil)
	for _, r := range rows {
		r.labels = c.labelsOf(r.name)
	}
	got := families(t, c.appendText([]byte("keep"), rows)[len("keep"):])
	want := viaExpfmt(t, c, rows)
	if len(want) < len(c.camera)+2 {
		t.Fatalf("expfmt wrote %d families, want at least %d", len(want), len(c.camera)+2)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n got %q\nwant %q", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s written, expfmt has no such family", name)
		}
	}
}

func TestTextMatchesExpfmt(t *testing.T) {
	c := newCollector(nil)
	at := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	rows := []*cameraRow{
		testRow(c, "cam-1", 0, time.Time{}, 0),
		testRow(c, "cam.2", 1, at, time.Millisecond),
		testRow(c, "cam_3", 1<<53+1, at, 3*time.Second),
		testRow(c, "dock", math.MaxUint64, at.Add(time.Hour), 40*time.Millisecond),
	}
	rows[1].write, rows[1].sync = nil, nil // storage never reported a fragment
	checkText(t, rows)
	checkText(t, rows[:1]) // no camera with a last fragment or histograms
	if got := newCollector(nil).appendText(nil, nil); len(got) != 0 {
		t.Errorf("no cameras wrote %q", got)
	}
}

// FuzzTextMatchesExpfmt: whatever the camera name (ValidCamera allows far less) and values,
// the text is expfmt's.
func FuzzTextMatchesExpfmt(f *testing.F) {
	f.Add("cam1", uint64(42), int64(1765101600e9), int64(2e6))
	f.Add(`we"ird\cam`+"\n", uint64(1<<63), int64(-1), int64(0))
	f.Add("ünï", uint64(0), int64(1), int64(1<<40))
	f.Fuzz(func(t *testing.T, name string, n uint64, at, lat int64) {
		if name == "" || !utf8.ValidString(name) {
			t.Skip("the registry refuses empty and invalid UTF-8 label values")
		}
		c := newCollector(nil)
		checkText(t, []*cameraRow{
			testRow(c, name, n, time.Unix(0, at), time.Duration(lat)),
			testRow(c, name+"~", n/3, time.Unix(0, at/2), time.Duration(lat/3)),
		})
	})
}

func TestAppendFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {0.0025, "0.0025"}, {1e21, "1e+21"},
		{float64(1<<53 + 2), "9.007199254740994e+15"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	} {
		if got := string(appendFloat(nil, tc.v)); got != tc.want {
			t.Errorf("appendFloat(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"identity", false},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0, *", false},
		{"*", true},
		{"*;q=0", false},
		{"br, *;q=0.1", true},
		{"gzip;q=bad", false},
		{"zstd,gzip", true},
	} {
		r, _ := http.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Encoding", tc.header)
		}
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.want)
		}
	}
}
