package bench

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// clients is the number of concurrent UDP clients; BENCH_DNS_CLIENTS
// overrides it.
func clients(tb testing.TB) int {
	if s := os.Getenv("BENCH_DNS_CLIENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			tb.Fatalf("BENCH_DNS_CLIENTS=%q: want a positive number", s)
		}
		return n
	}
	return 16
}

// BenchmarkServiceA sends b.N A queries for 1,000 Services to tug-dns and
// as many to CoreDNS (file plugin, no cache), in four alternating slices
// (tug-dns, CoreDNS, CoreDNS, tug-dns) so that a change of load on the
// machine falls on both alike, and reports queries/s, p50 and p99 latency
// of each and their ratio. Use -benchtime Nx for a fixed number of
// queries.
func BenchmarkServiceA(b *testing.B) {
	names, want := records(1000)
	n := clients(b)
	tug := startTugDNS(b)
	core, version := startCoreDNS(b, names, want)
	load(b, tug, names, want, n, 2000) // warm both alike
	load(b, core, names, want, n, 2000)
	slice := max(b.N/2, n)
	var tr, cr result
	b.ResetTimer()
	tr.add(load(b, tug, names, want, n, slice))
	cr.add(load(b, core, names, want, n, slice))
	cr.add(load(b, core, names, want, n, slice))
	tr.add(load(b, tug, names, want, n, slice))
	b.StopTimer()
	for _, r := range []struct {
		name string
		r    result
	}{{"tug-dns", tr}, {version, cr}} {
		if r.r.errors > int64(r.r.queries/1000) {
			b.Fatalf("%s: %d of %d queries failed", r.name, r.r.errors, r.r.queries)
		}
		if b.N > 1 {
			b.Logf("%s: %d queries from %d clients in %v: %.0f queries/s, p50 %v, p99 %v, %d errors",
				r.name, r.r.queries, n, r.r.elapsed.Round(time.Millisecond), r.r.rate(), r.r.quantile(0.5), r.r.quantile(0.99), r.r.errors)
		}
	}
	b.ReportMetric(tr.rate(), "tug-queries/s")
	b.ReportMetric(float64(tr.quantile(0.99).Microseconds())/1000, "tug-p99-ms")
	b.ReportMetric(cr.rate(), "coredns-queries/s")
	b.ReportMetric(float64(cr.quantile(0.99).Microseconds())/1000, "coredns-p99-ms")
	b.ReportMetric(tr.rate()/cr.rate(), "tug/coredns")
	b.ReportMetric(float64(tr.errors+cr.errors), "errors")
}
