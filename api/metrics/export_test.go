package metrics

import "github.com/prometheus/client_golang/prometheus"

// PedanticRegistry returns a pedantic registry holding m's scrape-time collector, which also
// checks every metric against its descriptor (too costly for every scrape in production).
func PedanticRegistry(m *Metrics) (*prometheus.Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	return reg, reg.Register(newCollector(m))
}
