package nft

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/proxy/rules"
)

// benchServices returns n Service ports with eps endpoints each.
func benchServices(n, eps int) []rules.ServicePort {
	out := make([]rules.ServicePort, n)
	for i := range out {
		sp := rules.ServicePort{Namespace: "bench", Name: fmt.Sprintf("svc-%d", i), PortName: "http", Protocol: rules.TCP,
			ClusterIP: netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)}), Port: 80, NodePort: uint16(30000 + i)}
		for j := range eps {
			sp.Endpoints = append(sp.Endpoints, rules.Endpoint{IP: netip.AddrFrom4([4]byte{10, 244, byte(i >> 4), byte(j + 16*(i&15))}), Port: 8080})
		}
		out[i] = sp
	}
	return out
}

var benchCfg = rules.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}

// BenchmarkFullSync programs 1,000 Services of 10 endpoints each from
// scratch (rule generation and one netlink transaction) in a test-made
// network namespace.
func BenchmarkFullSync(b *testing.B) {
	_, fd := netns(b)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		b.Fatal(err)
	}
	svcs := benchServices(1000, 10)
	for b.Loop() {
		var ops rules.Ops
		for i := range svcs {
			ops.Append(rules.Diff(nil, rules.Service(benchCfg, &svcs[i])))
		}
		if err := tbl.Replace(rules.Base(benchCfg), ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEndpointChange changes one endpoint of one Service (removed,
// then back) with 1,000 Services of 10 endpoints present, and reports the
// p99 of the generation-diff-transaction time.
func BenchmarkEndpointChange(b *testing.B) {
	_, fd := netns(b)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		b.Fatal(err)
	}
	svcs := benchServices(1000, 10)
	applied := make([]*rules.Fragment, len(svcs))
	var ops rules.Ops
	for i := range svcs {
		applied[i] = rules.Service(benchCfg, &svcs[i])
		ops.Append(rules.Diff(nil, applied[i]))
	}
	if err := tbl.Replace(rules.Base(benchCfg), ops); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	n := 0
	for b.Loop() {
		i := n % len(svcs)
		sp := svcs[i]
		if (n/len(svcs))%2 == 0 {
			sp.Endpoints = sp.Endpoints[:9]
		}
		n++
		start := time.Now()
		f := rules.Service(benchCfg, &sp)
		if err := tbl.Apply(rules.Diff(applied[i], f)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		applied[i] = f
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}
