package metrics

import (
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// The text format's escaping: of HELP text, and of label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// appendText appends the per-camera families of rows (from scrape) in the Prometheus text
// format (version 0.0.4) to b, byte for byte as expfmt writes what collectCamera sends
// (FuzzTextMatchesExpfmt, TestServedTextMatchesRegistry), but without building a dto.Metric
// per series, hashing and sorting them: with 200 cameras that was most of a scrape's time.
// Families without series are left out, as the registry does.
func (c *collector) appendText(b []byte, rows []*cameraRow) []byte {
	if len(rows) == 0 {
		return b
	}
	for i := range c.camera {
		s := &c.camera[i]
		b = append(b, s.header...)
		for _, r := range rows {
			b = appendSample(b, s.name, "", r.labels.text, "", s.value(r))
		}
	}
	for _, f := range []*family{&c.deleted.segments, &c.deleted.bytes} {
		b = append(b, f.header...)
		for _, r := range rows {
			for reason := 1; reason < len(r.st.Deleted); reason++ {
				d := r.st.Deleted[reason]
				v := d.Segments
				if f == &c.deleted.bytes {
					v = d.Bytes
				}
				b = appendSample(b, f.name, "", r.labels.textByReason[reason], "", float64(v))
			}
		}
	}
	header := c.lastEnd.header
	for _, r := range rows {
		if !r.rec.LastFragment.IsZero() {
			b = append(b, header...)
			header = ""
			b = appendSample(b, c.lastEnd.name, "", r.labels.text, "", lastEndValue(r))
		}
	}
	b = appendHistograms(b, &c.write, rows, func(r *cameraRow) *histogramSnapshot { return r.write })
	return appendHistograms(b, &c.sync, rows, func(r *cameraRow) *histogramSnapshot { return r.sync })
}

// appendHistograms appends the histogram family f of the rows that have one (get returns it).
func appendHistograms(b []byte, f *family, rows []*cameraRow, get func(*cameraRow) *histogramSnapshot) []byte {
	header := f.header
	for _, r := range rows {
		h := get(r)
		if h == nil {
			continue
		}
		b = append(b, header...)
		header = ""
		for i, n := range h.cumulative {
			b = appendSample(b, f.name, "_bucket", r.labels.text, bucketLabels[i], float64(n))
		}
		b = appendSample(b, f.name, "_bucket", r.labels.text, bucketLabels[len(cameraBuckets)], float64(h.count))
		b = appendSample(b, f.name, "_sum", r.labels.text, "", h.sum)
		b = appendSample(b, f.name, "_count", r.labels.text, "", float64(h.count))
	}
	return b
}

// appendSample appends one line: name+suffix, the labels (text form, not empty), an le label
// when le is not empty, and v.
func appendSample(b []byte, name, suffix, labels, le string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	b = append(b, '{')
	b = append(b, labels...)
	if le != "" {
		b = append(b, `,le="`...)
		b = append(b, le...)
		b = append(b, '"')
	}
	b = append(b, "} "...)
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendFloat formats v as the text format does: shortest form, +Inf, -Inf and NaN.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 0: // -0 too, as expfmt writes it
		return append(b, '0')
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

var _ prometheus.Collector = (*collector)(nil)
