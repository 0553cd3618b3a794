package framework

import (
	"maps"

	"github.com/tugboat-sh/tugboat/machinery/quantity"
)

// The resource names the scheduler knows by heart; any other name in a
// request or in allocatable is a scalar resource.
const (
	ResourceCPU    = "cpu"
	ResourceMemory = "memory"
	ResourcePods   = "pods"
)

// Defaults counted, for scoring only, for a container that requests no
// cpu or memory, as Kubernetes does: an empty pod is not free.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of every resource: cpu in millicores, memory and
// scalar resources in units, and a number of pods.
type Resource struct {
	MilliCPU int64
	Memory   int64
	// AllowedPodNumber is the number of pods (allocatable "pods").
	AllowedPodNumber int64
	// Scalar holds every other resource by name (ephemeral-storage,
	// hugepages-2Mi, example.com/gpu). Nil when there is none.
	Scalar map[string]int64
}

// ParseResourceList reads a map of quantities such as a node's
// allocatable or a container's requests. Values the apiserver would not
// have accepted are counted as zero.
func ParseResourceList(list map[string]string) Resource {
	var r Resource
	for name, v := range list {
		switch name {
		case ResourceCPU:
			r.MilliCPU, _ = quantity.MilliValue(v)
		case ResourceMemory:
			r.Memory, _ = quantity.Value(v)
		case ResourcePods:
			r.AllowedPodNumber, _ = quantity.Value(v)
		default:
			n, _ := quantity.Value(v)
			r.SetScalar(name, n)
		}
	}
	return r
}

// SetScalar sets the amount of a scalar resource.
func (r *Resource) SetScalar(name string, n int64) {
	if r.Scalar == nil {
		r.Scalar = map[string]int64{}
	}
	r.Scalar[name] = n
}

// Add adds o to r.
func (r *Resource) Add(o Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.AllowedPodNumber += o.AllowedPodNumber
	for name, n := range o.Scalar {
		r.SetScalar(name, r.Scalar[name]+n)
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.AllowedPodNumber -= o.AllowedPodNumber
	for name, n := range o.Scalar {
		r.SetScalar(name, r.Scalar[name]-n)
	}
}

// SetMax raises each amount of r to o's where o's is larger.
func (r *Resource) SetMax(o Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for name, n := range o.Scalar {
		if n > r.Scalar[name] {
			r.SetScalar(name, n)
		}
	}
}

// Clone returns a copy of r that shares nothing with it.
func (r Resource) Clone() Resource {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}
