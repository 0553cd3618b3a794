package bench

import (
	"os"
	"strconv"
	"testing"
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
// then to CoreDNS (file plugin, no cache), and reports queries/s, p50 and
// p99 latency for each. Use -benchtime Nx for a fixed number of queries.
func BenchmarkServiceA(b *testing.B) {
	names, want := records(1000)
	n := clients(b)
	tug := startTugDNS(b)
	core, version := startCoreDNS(b, names, want)
	for _, srv := range []struct{ name, addr string }{{"tug-dns", tug}, {version, core}} {
		b.Run(srv.name, func(b *testing.B) {
			load(b, srv.addr, names, want, n, min(b.N, 2000)) // warm both alike
			b.ResetTimer()
			r := load(b, srv.addr, names, want, n, max(b.N, n))
			b.StopTimer()
			if r.errors > int64(r.queries/1000) {
				b.Fatalf("%d of %d queries failed", r.errors, r.queries)
			}
			b.ReportMetric(r.rate(), "queries/s")
			b.ReportMetric(float64(r.p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(r.p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(r.errors), "errors")
			b.Logf("%s: %d queries from %d clients in %v: %.0f queries/s, p50 %v, p99 %v, %d errors",
				srv.name, r.queries, n, r.elapsed, r.rate(), r.p50, r.p99, r.errors)
		})
	}
}
