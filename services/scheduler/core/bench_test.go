package core_test

import (
	"fmt"
	"testing"

	"github.com/tugboat-sh/tugboat/services/scheduler/core"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

// benchCluster returns n nodes of 8 cpu and 32Gi, each running 20 pods of
// 10 owners, a tenth of them tainted and a fifth labelled disk=ssd.
func benchCluster(n int) *framework.Snapshot {
	nodes := make([]*framework.NodeInfo, n)
	for i := range nodes {
		name := fmt.Sprintf("node-%05d", i)
		opts := []f.NodeOption{f.Allocatable("8", "32Gi", 110), f.Labels("zone", fmt.Sprintf("z%d", i%3))}
		if i%10 == 0 {
			opts = append(opts, f.Taint("dedicated", "batch", "NoSchedule"))
		}
		if i%5 == 0 {
			opts = append(opts, f.Labels("disk", "ssd"))
		}
		ni := framework.NewNodeInfo(f.Node(name, opts...))
		for j := range 20 {
			ni.AddPod(framework.NewPodInfo(f.Pod("ns", fmt.Sprintf("%s-%d", name, j),
				f.Requests("100m", "256Mi"), f.Owner(fmt.Sprintf("rs-%d", (i+j)%10), true), f.OnNode(name))))
		}
		nodes[i] = ni
	}
	return framework.NewSnapshot(nodes...)
}

// BenchmarkSchedule times one scheduling decision of a replica pod with
// requests and a preferred zone, with the default plugins.
func BenchmarkSchedule(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			snap := benchCluster(n)
			s := newScheduler(core.Options{Parallelism: 16})
			pod := f.Pod("ns", "p", f.Requests("500m", "1Gi"), f.Owner("rs-3", true),
				f.Preferred(10, f.Term(f.Expr("zone", "In", "z1"))))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Schedule(snap, pod); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
