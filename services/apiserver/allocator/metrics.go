package allocator

import (
	"fmt"
	"math/bits"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the allocators' metrics, labelled by range ("serviceips",
// "servicenodeports").
type Metrics struct {
	allocations *prometheus.CounterVec
	used        *prometheus.GaugeVec
}

// NewMetrics registers the allocator metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		allocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_apiserver_allocator_allocations_total",
			Help: "Allocations from a Service range, by range and result (success, taken, full, error).",
		}, []string{"range", "result"}),
		used: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tugboat_apiserver_allocator_used",
			Help: "Values of a Service range in use, as last written by this apiserver.",
		}, []string{"range"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.allocations, m.used} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("allocator metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *Metrics) allocated(rng string, err error) {
	if m == nil {
		return
	}
	result := "success"
	switch {
	case err == nil:
	case err == ErrAllocated:
		result = "taken"
	case err == ErrFull:
		result = "full"
	default:
		result = "error"
	}
	m.allocations.WithLabelValues(rng, result).Inc()
}

func (m *Metrics) written(rng string, b []byte) {
	if m == nil {
		return
	}
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	m.used.WithLabelValues(rng).Set(float64(n))
}
