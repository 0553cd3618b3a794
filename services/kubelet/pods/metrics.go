package pods

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	syncDuration   prometheus.Histogram
	syncErrors     prometheus.Counter
	startupLatency prometheus.Histogram
	containerOps   *prometheus.CounterVec
	running        prometheus.Gauge
	probes         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tugboat_kubelet_pod_sync_duration_seconds", Help: "Time to sync one pod with the runtime.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		syncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tugboat_kubelet_pod_sync_errors_total", Help: "Pod syncs that failed and were retried.",
		}),
		startupLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tugboat_kubelet_pod_start_duration_seconds", Help: "From the kubelet seeing a pod to all its containers running.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		containerOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_kubelet_runtime_operations_total", Help: "Runtime operations by kind and result.",
		}, []string{"operation", "result"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_kubelet_running_pods", Help: "Pods with a ready sandbox on this node.",
		}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_kubelet_probes_total", Help: "Container probe attempts by probe and result.",
		}, []string{"probe_type", "result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.syncDuration, m.syncErrors, m.startupLatency, m.containerOps, m.running, m.probes} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("register kubelet metrics: %w", err)
			}
		}
	}
	return m, nil
}

// op counts one runtime operation.
func (m *metrics) op(name string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.containerOps.WithLabelValues(name, result).Inc()
}

// Register adds the gauge tugboat_kubelet_watched_objects{kind} (the
// secrets and config maps being watched) to reg; nil registers nothing.
func (s *Sources) Register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for kind, n := range map[string]func() int{
		"Secret":    func() int { return len(s.secrets.Watching()) },
		"ConfigMap": func() int { return len(s.configMaps.Watching()) },
	} {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tugboat_kubelet_watched_objects", Help: "Secrets and config maps the node's pods use, each watched by name.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(n()) })
		if err := reg.Register(g); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return fmt.Errorf("register kubelet metrics: %w", err)
			}
		}
	}
	return nil
}
