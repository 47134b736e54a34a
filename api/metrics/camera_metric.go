package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample is one counter or gauge value of a scrape, sent as a prometheus.Metric. A camera's
// samples are allocated together and share the camera's label pairs, which
// prometheus.MustNewConstMetric would build again for every series: with 200 cameras that
// was most of a scrape's allocations.
type sample struct {
	desc    *prometheus.Desc
	typ     prometheus.ValueType
	value   float64
	labels  []*dto.LabelPair // sorted, shared, never modified
	counter dto.Counter
	gauge   dto.Gauge
}

// Desc returns the sample's descriptor.
func (s *sample) Desc() *prometheus.Desc { return s.desc }

// Write fills out with the sample's labels and value; out then points into s.
func (s *sample) Write(out *dto.Metric) error {
	out.Label = s.labels
	if s.typ == prometheus.CounterValue {
		s.counter.Value = &s.value
		out.Counter = &s.counter
		return nil
	}
	s.gauge.Value = &s.value
	out.Gauge = &s.gauge
	return nil
}
