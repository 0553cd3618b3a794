// Package leastallocated scores nodes by the share of their cpu and
// memory left free once the pod is placed: the emptier, the better, which
// spreads load across nodes. Requests count with the scheduler's
// defaults for containers that request nothing.
package leastallocated

import "github.com/tugboat-sh/tugboat/services/scheduler/framework"

// Name is the plugin's name.
const Name = "NodeResourcesLeastAllocated"

// LeastAllocated is a score plugin.
type LeastAllocated struct{}

var _ framework.ScorePlugin = (*LeastAllocated)(nil)

// New returns the plugin.
func New() *LeastAllocated { return &LeastAllocated{} }

// Name implements framework.Plugin.
func (*LeastAllocated) Name() string { return Name }

// Score is the mean of the free percentages of cpu and memory after
// placing the pod, each 0 when the node lacks that resource.
func (*LeastAllocated) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	cpu := free(node.Allocatable.MilliCPU, node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU)
	mem := free(node.Allocatable.Memory, node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory)
	return (cpu + mem) / 2, nil
}

// free is the percentage of capacity left after requested.
func free(capacity, requested int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}
