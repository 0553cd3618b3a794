package describe

import (
	"fmt"
	"io"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Node describes a node, the non-terminated pods bound to it with their
// requests and limits, what they allocate in total, and its events.
func Node(out io.Writer, n *corev1.Node, pods []*corev1.Pod, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	m, st := n.GetMetadata(), n.GetStatus()
	w.line(0, "Name:\t%s", m.GetName())
	w.line(0, "Roles:\t%s", roles(m.GetLabels()))
	w.mapLines(0, "Labels", m.GetLabels())
	w.mapLines(0, "Annotations", m.GetAnnotations())
	w.line(0, "CreationTimestamp:\t%s", when(m.GetCreationTimestamp()))
	if len(n.GetSpec().GetTaints()) == 0 {
		w.line(0, "Taints:\t<none>")
	}
	for i, t := range n.GetSpec().GetTaints() {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		s += ":" + t.GetEffect()
		if i == 0 {
			w.line(0, "Taints:\t%s", s)
		} else {
			w.line(0, "\t%s", s)
		}
	}
	w.line(0, "Unschedulable:\t%t", n.GetSpec().GetUnschedulable())
	w.line(0, "Conditions:")
	w.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
	w.line(1, "----\t------\t-----------------\t------------------\t------\t-------")
	for _, c := range st.GetConditions() {
		w.line(1, "%s\t%s\t%s\t%s\t%s\t%s", c.GetType(), c.GetStatus(), when(c.GetLastHeartbeatTime()), when(c.GetLastTransitionTime()), c.GetReason(), c.GetMessage())
	}
	w.line(0, "Addresses:")
	for _, a := range st.GetAddresses() {
		w.line(1, "%s:\t%s", a.GetType(), a.GetAddress())
	}
	capacityLines(w, "Capacity", st.GetCapacity())
	capacityLines(w, "Allocatable", st.GetAllocatable())
	info := st.GetNodeInfo()
	w.line(0, "System Info:")
	w.line(1, "Machine ID:\t%s", info.GetMachineId())
	w.line(1, "System UUID:\t%s", info.GetSystemUuid())
	w.line(1, "Boot ID:\t%s", info.GetBootId())
	w.line(1, "Kernel Version:\t%s", info.GetKernelVersion())
	w.line(1, "OS Image:\t%s", info.GetOsImage())
	w.line(1, "Operating System:\t%s", info.GetOperatingSystem())
	w.line(1, "Architecture:\t%s", info.GetArchitecture())
	w.line(1, "Container Runtime Version:\t%s", info.GetContainerRuntimeVersion())
	w.line(1, "Kubelet Version:\t%s", info.GetKubeletVersion())
	w.line(1, "Kube-Proxy Version:\t%s", info.GetKubeProxyVersion())
	if n.GetSpec().GetPodCidr() != "" {
		w.line(0, "PodCIDR:\t%s", n.GetSpec().GetPodCidr())
	}
	alloc := st.GetAllocatable()
	w.line(0, "Non-terminated Pods:\t(%d in total)", len(pods))
	w.line(1, "Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
	w.line(1, "---------\t----\t------------\t----------\t---------------\t-------------\t---")
	var total [4]resource.Quantity
	for _, p := range pods {
		r := podResources(p)
		for i := range total {
			total[i].Add(r[i])
		}
		w.line(1, "%s\t%s\t%s\t%s\t%s\t%s\t%s", p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(),
			share(r[0], alloc["cpu"], true), share(r[1], alloc["cpu"], true), share(r[2], alloc["memory"], false), share(r[3], alloc["memory"], false),
			age(p, now))
	}
	w.line(0, "Allocated resources:")
	w.line(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
	w.line(1, "Resource\tRequests\tLimits")
	w.line(1, "--------\t--------\t------")
	w.line(1, "cpu\t%s\t%s", share(total[0], alloc["cpu"], true), share(total[1], alloc["cpu"], true))
	w.line(1, "memory\t%s\t%s", share(total[2], alloc["memory"], false), share(total[3], alloc["memory"], false))
	w.events(events, now)
	return w.flush()
}

func roles(labels map[string]string) string {
	var rs []string
	for _, k := range sortedKeys(labels) {
		if len(k) > len("node-role.kubernetes.io/") && k[:len("node-role.kubernetes.io/")] == "node-role.kubernetes.io/" {
			rs = append(rs, k[len("node-role.kubernetes.io/"):])
		}
	}
	if len(rs) == 0 {
		return "<none>"
	}
	return fmt.Sprint(rs)
}

func capacityLines(w *writer, key string, r map[string]string) {
	w.line(0, "%s:", key)
	for _, k := range sortedKeys(r) {
		w.line(1, "%s:\t%s", k, r[k])
	}
}

// podResources sums a pod's cpu requests, cpu limits, memory requests and
// memory limits over its containers (a limit without a request requests it).
func podResources(p *corev1.Pod) [4]resource.Quantity {
	var r [4]resource.Quantity
	for _, c := range p.GetSpec().GetContainers() {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		for i, v := range []string{orDefault(req["cpu"], lim["cpu"]), lim["cpu"], orDefault(req["memory"], lim["memory"]), lim["memory"]} {
			if v == "" {
				continue
			}
			if q, err := quantity.Parse(v); err == nil {
				r[i].Add(q)
			}
		}
	}
	return r
}

// share prints a quantity with its percentage of the allocatable amount:
// "500m (25%)".
func share(q resource.Quantity, allocatable string, milli bool) string {
	pct := int64(0)
	if a, err := quantity.Parse(allocatable); err == nil {
		if milli && a.MilliValue() > 0 {
			pct = q.MilliValue() * 100 / a.MilliValue()
		} else if !milli && a.Value() > 0 {
			pct = q.Value() * 100 / a.Value()
		}
	}
	return fmt.Sprintf("%s (%d%%)", q.String(), pct)
}

func age(p *corev1.Pod, now time.Time) string {
	if t := p.GetMetadata().GetCreationTimestamp(); t != nil {
		return durationString(now.Sub(t.AsTime()))
	}
	return "<unknown>"
}
