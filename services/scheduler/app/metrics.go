package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/scheduler/queue"
)

// Results of a scheduling attempt, the result label.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

// metrics are the scheduler's own metrics.
type metrics struct {
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	podDuration     prometheus.Histogram
}

// newMetrics registers the scheduler's metrics on reg; the pending pods
// gauges read q when scraped.
func newMetrics(reg prometheus.Registerer, q *queue.Queue) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_scheduler_schedule_attempts_total",
			Help: "Scheduling attempts by result: scheduled, unschedulable or error.",
		}, []string{"result"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tugboat_scheduler_scheduling_attempt_duration_seconds",
			Help:    "Duration of one scheduling attempt, from taking the pod off the queue to its binding or failure, by result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"result"}),
		podDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tugboat_scheduler_pod_scheduling_duration_seconds",
			Help:    "Time from a pod first entering the queue to its binding, over every attempt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 20),
		}),
	}
	collectors := []prometheus.Collector{m.attempts, m.attemptDuration, m.podDuration}
	for _, part := range []struct {
		name string
		n    func() int
	}{
		{"active", func() int { a, _, _ := q.Counts(); return a }},
		{"backoff", func() int { _, b, _ := q.Counts(); return b }},
		{"unschedulable", func() int { _, _, u := q.Counts(); return u }},
	} {
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "tugboat_scheduler_pending_pods",
			Help:        "Pods waiting in the scheduling queue, by part: active, backoff or unschedulable.",
			ConstLabels: prometheus.Labels{"queue": part.name},
		}, func() float64 { return float64(part.n()) }))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range []string{resultScheduled, resultUnschedulable, resultError} {
		m.attempts.WithLabelValues(r)
	}
	return m, nil
}

// attempt records the end of one scheduling attempt.
func (m *metrics) attempt(result string, seconds float64) {
	m.attempts.WithLabelValues(result).Inc()
	m.attemptDuration.WithLabelValues(result).Observe(seconds)
}
