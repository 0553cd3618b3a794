package registry

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
)

// qosClass computes a pod's quality of service class as Kubernetes does:
// Guaranteed when every container has cpu and memory limits equal to its
// requests, BestEffort when none has any, Burstable otherwise.
func qosClass(spec *corev1.PodSpec) string {
	containers := append(append([]*corev1.Container{}, spec.GetInitContainers()...), spec.GetContainers()...)
	some, guaranteed := false, true
	for _, c := range containers {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		for _, res := range []string{"cpu", "memory"} {
			r, hasReq := req[res]
			l, hasLim := lim[res]
			if hasReq || hasLim {
				some = true
			}
			if !hasLim {
				guaranteed = false
				continue
			}
			if hasReq && !sameQuantity(r, l) {
				guaranteed = false
			}
		}
	}
	switch {
	case !some:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	}
	return "Burstable"
}

func sameQuantity(a, b string) bool {
	qa, err1 := quantity.Parse(a)
	qb, err2 := quantity.Parse(b)
	return err1 == nil && err2 == nil && qa.Cmp(qb) == 0
}
