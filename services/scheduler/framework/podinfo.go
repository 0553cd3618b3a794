package framework

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
)

// PodInfo is a pod with what the scheduler derives from it, computed once:
// its effective resource requests, host ports and controlling owner.
type PodInfo struct {
	Pod *corev1.Pod
	// Key is "namespace/name".
	Key string
	// Requests is what the pod needs to start: for each resource the
	// larger of the sum over its containers and the largest init
	// container (init containers run one at a time, before the others).
	Requests Resource
	// NonZeroRequests is Requests with DefaultMilliCPURequest and
	// DefaultMemoryRequest counted for containers that request none; it
	// is used for scoring only. Only MilliCPU and Memory are set.
	NonZeroRequests Resource
	// HostPorts are the host ports the pod's containers bind.
	HostPorts []HostPort
	// ControllerUID is the uid of the owner reference marked controller
	// (a ReplicaSet, Job ...), empty when there is none.
	ControllerUID string
	// Terminating says the pod is being deleted.
	Terminating bool
}

// NewPodInfo derives a PodInfo from pod. pod is kept, not copied.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	m := pod.GetMetadata()
	pi := &PodInfo{Pod: pod, Key: m.GetNamespace() + "/" + m.GetName(), Terminating: m.GetDeletionTimestamp() != nil}
	spec := pod.GetSpec()
	for _, c := range spec.GetContainers() {
		req := c.GetResources().GetRequests()
		pi.Requests.Add(ParseResourceList(req))
		pi.NonZeroRequests.Add(nonZero(req))
		for _, p := range c.GetPorts() {
			if p.GetHostPort() > 0 {
				pi.HostPorts = append(pi.HostPorts, NewHostPort(p.GetHostIp(), p.GetProtocol(), p.GetHostPort()))
			}
		}
	}
	for _, c := range spec.GetInitContainers() {
		req := c.GetResources().GetRequests()
		pi.Requests.SetMax(ParseResourceList(req))
		pi.NonZeroRequests.SetMax(nonZero(req))
	}
	for _, ref := range m.GetOwnerReferences() {
		if ref.GetController() {
			pi.ControllerUID = ref.GetUid()
			break
		}
	}
	return pi
}

// nonZero reads the cpu and memory of requests, defaulting what is unset.
func nonZero(requests map[string]string) Resource {
	r := Resource{MilliCPU: DefaultMilliCPURequest, Memory: DefaultMemoryRequest}
	if v, ok := requests[ResourceCPU]; ok {
		r.MilliCPU, _ = quantity.MilliValue(v)
	}
	if v, ok := requests[ResourceMemory]; ok {
		r.Memory, _ = quantity.Value(v)
	}
	return r
}
