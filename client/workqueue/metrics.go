package workqueue

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of one queue; the vectors are shared by every queue registered
// on the same Registerer and told apart by the name label. A nil *metrics
// records nothing.
type metrics struct {
	depthG   prometheus.Gauge
	adds     prometheus.Counter
	retries  prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	depth := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tugboat_workqueue_depth",
		Help: "Keys waiting in a work queue.",
	}, []string{"name"})
	adds := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tugboat_workqueue_adds_total",
		Help: "Keys added to a work queue.",
	}, []string{"name"})
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tugboat_workqueue_retries_total",
		Help: "Rate-limited re-adds to a work queue.",
	}, []string{"name"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tugboat_workqueue_work_duration_seconds",
		Help:    "Time from Get to Done of a key.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12),
	}, []string{"name"})
	var err error
	if depth, err = register(reg, depth); err != nil {
		return nil, err
	}
	if adds, err = register(reg, adds); err != nil {
		return nil, err
	}
	if retries, err = register(reg, retries); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	return &metrics{
		depthG:   depth.WithLabelValues(name),
		adds:     adds.WithLabelValues(name),
		retries:  retries.WithLabelValues(name),
		duration: duration.WithLabelValues(name),
	}, nil
}

// register registers c, reusing the collector already registered under
// the same name so that several queues share one vector.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) add() {
	if m != nil {
		m.adds.Inc()
	}
}

func (m *metrics) retry() {
	if m != nil {
		m.retries.Inc()
	}
}

func (m *metrics) depth(n int) {
	if m != nil {
		m.depthG.Set(float64(n))
	}
}

func (m *metrics) workDuration(d time.Duration) {
	if m != nil {
		m.duration.Observe(d.Seconds())
	}
}
