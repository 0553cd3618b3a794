package validation

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

const podUpdateDetail = "pod updates may not change fields other than `spec.containers[*].image`, " +
	"`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, " +
	"`spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`"

// podUpdate checks that a pod update changes only the mutable parts of the spec.
func podUpdate(n, o *corev1.Pod) List {
	ns, os := n.GetSpec(), o.GetSpec()
	if ns == nil || os == nil {
		return nil
	}
	var errs List
	if os.ActiveDeadlineSeconds != nil {
		p := path("spec.activeDeadlineSeconds")
		switch {
		case ns.ActiveDeadlineSeconds == nil:
			errs = append(errs, invalid(p, nil, "must not update from a positive integer to nil value"))
		case ns.GetActiveDeadlineSeconds() > os.GetActiveDeadlineSeconds():
			errs = append(errs, invalid(p, ns.GetActiveDeadlineSeconds(), "must be less than or equal to previous value"))
		}
	}
	for _, old := range os.GetTolerations() {
		if !hasToleration(ns.GetTolerations(), old) {
			errs = append(errs, forbidden("spec.tolerations", "existing toleration can not be modified or removed"))
			break
		}
	}
	m := proto.Clone(ns).(*corev1.PodSpec)
	keepImages(m.GetContainers(), os.GetContainers())
	keepImages(m.GetInitContainers(), os.GetInitContainers())
	m.ActiveDeadlineSeconds = os.ActiveDeadlineSeconds
	m.TerminationGracePeriodSeconds = os.TerminationGracePeriodSeconds
	m.Tolerations = os.Tolerations
	if !proto.Equal(m, os) {
		errs = append(errs, forbidden("spec", podUpdateDetail))
	}
	return errs
}

func hasToleration(ts []*corev1.Toleration, t *corev1.Toleration) bool {
	for _, c := range ts {
		if proto.Equal(c, t) {
			return true
		}
	}
	return false
}

// keepImages copies the old images into m so the rest can be compared.
func keepImages(m, old []*corev1.Container) {
	if len(m) != len(old) {
		return
	}
	for i := range m {
		m[i].Image = old[i].GetImage()
	}
}
