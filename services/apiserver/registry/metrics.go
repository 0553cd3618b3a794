package registry

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the registry's Prometheus metrics.
type Metrics struct {
	watches *prometheus.GaugeVec
	// Objects is set by the object counter (counter.go).
	Objects *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them on reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		watches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tugboat_apiserver_watches",
			Help: "Open watches by resource.",
		}, []string{"resource"}),
		Objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tugboat_apiserver_storage_objects",
			Help: "Objects stored, by resource (refreshed periodically).",
		}, []string{"resource"}),
	}
	if reg != nil {
		reg.MustRegister(m.watches, m.Objects)
	}
	return m
}
