package app

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons of tugboat_proxy_services_skipped_total.
const (
	skipInvalid  = "invalid"
	skipTooLarge = "too_large"
)

// metrics are the proxy's own series.
type metrics struct {
	syncDuration prometheus.Histogram
	rules        prometheus.Gauge
	lastSync     prometheus.Gauge
	syncs        *prometheus.CounterVec
	skipped      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tugboat_proxy_sync_duration_seconds",
			Help:    "Time to compute and program one sync of the nftables rules.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_proxy_rules_programmed",
			Help: "Rules in the proxy's nftables table after the last successful sync.",
		}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tugboat_proxy_last_sync_timestamp_seconds",
			Help: "Unix time of the last successful sync.",
		}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_proxy_syncs_total",
			Help: "Syncs of the nftables rules by result (success, error).",
		}, []string{"result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_proxy_services_skipped_total",
			Help: "Services left out of a sync, by reason (invalid: the proxy cannot read them; too_large: their endpoints do not fit the numgen maps).",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.syncDuration, m.rules, m.lastSync, m.syncs, m.skipped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.syncs.WithLabelValues("success")
	m.syncs.WithLabelValues("error")
	m.skipped.WithLabelValues(skipInvalid)
	m.skipped.WithLabelValues(skipTooLarge)
	return m, nil
}
