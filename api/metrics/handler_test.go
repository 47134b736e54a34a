package metrics_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/camvault/camvault/api/metrics"
)

// scrape serves /metrics with the given request headers and returns the answer.
func scrape(t *testing.T, m *metrics.Metrics, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/metrics", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w
}

// parseText parses a text-format answer and lints it as promtool would.
func parseText(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	list := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		list = append(list, f)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	return fams
}

// TestServedTextMatchesRegistry: the per-camera families the handler writes itself are, byte
// for byte, what expfmt writes of the registry's series, and the whole answer parses and
// lints clean.
func TestServedTextMatchesRegistry(t *testing.T) {
	f := newFixture(t, metrics.Sources{RTSP: rtspStats})
	recordThree(t, f)
	body := scrape(t, f.m).Body.Bytes()
	parseText(t, body)
	served := map[string]string{}
	for block := range strings.SplitSeq(string(body), "# HELP ") {
		name, _, _ := strings.Cut(block, " ")
		served[name] = "# HELP " + block
	}
	checked := 0
	for name, fam := range gather(t, f.m) {
		if !strings.HasPrefix(name, "camvault_camera_") {
			continue
		}
		var want bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&want, fam); err != nil {
			t.Fatal(err)
		}
		if served[name] != want.String() {
			t.Errorf("%s:\nserved %q\n  want %q", name, served[name], want.String())
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("%d per-camera families, want at least 20", checked)
	}
}

// TestHandlerNegotiates: gzip when the scraper accepts it, protobuf when it asks for it.
func TestHandlerNegotiates(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	recordThree(t, f)
	w := scrape(t, f.m, "Accept-Encoding", "gzip")
	if ce := w.Header().Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q", ce)
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if fams := parseText(t, plain); len(values(fams["camvault_camera_recorded_frames_total"])) != 3 {
		t.Errorf("gzipped answer: frames of %v", values(fams["camvault_camera_recorded_frames_total"]))
	}

	if v := w.Header().Values("Vary"); strings.Join(v, ",") != "Accept,Accept-Encoding" {
		t.Errorf("Vary %q", v)
	}

	// name[] filters, as promhttp does.
	r := httptest.NewRequest("GET", "/metrics?name[]=camvault_camera_recorded_frames_total&name[]=go_goroutines", nil)
	rec := httptest.NewRecorder()
	f.m.Handler().ServeHTTP(rec, r)
	if fams := parseText(t, rec.Body.Bytes()); len(fams) != 2 || len(values(fams["camvault_camera_recorded_frames_total"])) != 3 || fams["go_goroutines"] == nil {
		t.Errorf("name[] filter: %d families\n%s", len(fams), rec.Body)
	}

	w = scrape(t, f.m, "Accept", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`)
	if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, "protobuf") {
		t.Fatalf("Content-Type %q", ct)
	}
	dec := expfmt.NewDecoder(w.Body, expfmt.Format(w.Header().Get("Content-Type")))
	found := false
	for {
		var fam dto.MetricFamily
		if err := dec.Decode(&fam); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if fam.GetName() == "camvault_camera_write_duration_seconds" && len(fam.GetMetric()) == 3 {
			found = true
			if fam.GetMetric()[0].GetHistogram().GetCreatedTimestamp() == nil {
				t.Error("a camera's write histogram has no created timestamp")
			}
		}
	}
	if !found {
		t.Error("protobuf answer without the three cameras' write histograms")
	}
}
