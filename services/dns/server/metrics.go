package server

import (
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the DNS server's Prometheus metrics.
type Metrics struct {
	queries  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	forwards *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_dns_queries_total",
			Help: "DNS queries answered, by question type and response code.",
		}, []string{"type", "rcode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tugboat_dns_request_duration_seconds",
			Help:    "Time to answer a DNS query, forwarding included, by question type.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10),
		}, []string{"type"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_dns_forward_requests_total",
			Help: "Queries forwarded to the upstream resolvers, by response code (SERVFAIL when none answered).",
		}, []string{"rcode"}),
	}
	for _, c := range []prometheus.Collector{m.queries, m.duration, m.forwards} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// qtype names a query's type for a label, bounded to the known types.
func qtype(req *dns.Msg) string {
	if len(req.Question) != 1 {
		return "none"
	}
	if s, ok := dns.TypeToString[req.Question[0].Qtype]; ok {
		return s
	}
	return "other"
}

func rcode(c int) string {
	if s, ok := dns.RcodeToString[c]; ok {
		return s
	}
	return "other"
}

func (m *Metrics) observe(req, resp *dns.Msg, d time.Duration) {
	if m == nil {
		return
	}
	t := qtype(req)
	m.queries.WithLabelValues(t, rcode(resp.Rcode)).Inc()
	m.duration.WithLabelValues(t).Observe(d.Seconds())
}

func (m *Metrics) forwarded(code int) {
	if m != nil {
		m.forwards.WithLabelValues(rcode(code)).Inc()
	}
}
