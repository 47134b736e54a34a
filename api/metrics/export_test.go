package metrics

import "github.com/prometheus/client_golang/prometheus"

// PedanticRegistry returns a pedantic registry holding m's scrape-time collectors, which also
// checks every metric against its descriptor (too costly for every scrape in production).
func PedanticRegistry(m *Metrics) (*prometheus.Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	for _, c := range []prometheus.Collector{newCollector(m), newProcessCollector(m)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}
