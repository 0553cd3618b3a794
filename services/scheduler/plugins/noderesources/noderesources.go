// Package noderesources keeps a pod off nodes without room for its
// requests: cpu, memory, any other requested resource (ephemeral-storage,
// hugepages, extended resources), and the node's number of pods. What is
// free is allocatable minus the requests of the pods already there.
package noderesources

import (
	"slices"

	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeResourcesFit"

// ReasonTooManyPods is the reason when the node holds its allocatable
// number of pods; other reasons are "Insufficient <resource>".
const ReasonTooManyPods = "Too many pods"

// Fit is a filter plugin.
type Fit struct{}

var _ framework.FilterPlugin = (*Fit)(nil)

// New returns the plugin.
func New() *Fit { return &Fit{} }

// Name implements framework.Plugin.
func (*Fit) Name() string { return Name }

// Filter rejects a node where one of the pod's requests exceeds what is
// free, with one reason per missing resource.
func (*Fit) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	reasons := Insufficient(pod.Requests, node)
	if len(reasons) == 0 {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// Insufficient lists why requests do not fit on node beside its pods, in
// a stable order: pods, cpu, memory, then other resources by name.
func Insufficient(requests framework.Resource, node *framework.NodeInfo) []string {
	var reasons []string
	alloc, used := node.Allocatable, node.Requested
	if int64(len(node.Pods))+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if requests.MilliCPU > 0 && requests.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		reasons = append(reasons, "Insufficient cpu")
	}
	if requests.Memory > 0 && requests.Memory > alloc.Memory-used.Memory {
		reasons = append(reasons, "Insufficient memory")
	}
	var scalar []string
	for name, n := range requests.Scalar {
		if n > 0 && n > alloc.Scalar[name]-used.Scalar[name] {
			scalar = append(scalar, "Insufficient "+name)
		}
	}
	slices.Sort(scalar)
	return append(reasons, scalar...)
}
