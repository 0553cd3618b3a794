package validation

import (
	"net/netip"
	"slices"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

func validateNode(n *corev1.Node) List {
	errs := validateMeta(n.GetMetadata(), metaOpts{name: names.Subdomain})
	s, p := n.GetSpec(), path("spec")
	if c := s.GetPodCidr(); c != "" {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, invalid(p.child("podCIDR"), c, "must be a valid CIDR"))
		}
	}
	if len(s.GetPodCidrs()) > 2 {
		errs = append(errs, invalid(p.child("podCIDRs"), s.GetPodCidrs(), "may specify no more than one CIDR for each IP family"))
	}
	for i, c := range s.GetPodCidrs() {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, invalid(p.child("podCIDRs").index(i), c, "must be a valid CIDR"))
		}
	}
	if len(s.GetPodCidrs()) > 0 && s.GetPodCidr() != "" && s.GetPodCidrs()[0] != s.GetPodCidr() {
		errs = append(errs, invalid(p.child("podCIDRs").index(0), s.GetPodCidrs()[0], "must be same as podCIDR"))
	}
	seen := map[string]bool{}
	for i, t := range s.GetTaints() {
		ip := p.child("taints").index(i)
		if t.GetKey() == "" {
			errs = append(errs, required(ip.child("key"), ""))
		} else {
			errs = append(errs, check(ip.child("key"), t.GetKey(), names.LabelKey(t.GetKey()))...)
		}
		errs = append(errs, check(ip.child("value"), t.GetValue(), names.LabelValue(t.GetValue()))...)
		if t.GetEffect() == "" {
			errs = append(errs, required(ip.child("effect"), ""))
		} else {
			errs = append(errs, oneOf(ip.child("effect"), t.GetEffect(), "NoSchedule", "PreferNoSchedule", "NoExecute")...)
		}
		if k := t.GetKey() + ":" + t.GetEffect(); seen[k] {
			errs = append(errs, duplicate(ip, k))
		} else {
			seen[k] = true
		}
	}
	for _, r := range []struct {
		name string
		list map[string]string
	}{{"capacity", n.GetStatus().GetCapacity()}, {"allocatable", n.GetStatus().GetAllocatable()}} {
		for k, v := range r.list {
			errs = append(errs, quantityOf(path("status").child(r.name).key(k), v, false)...)
		}
	}
	return errs
}

// nodeUpdate keeps a node's pod CIDRs once they are set.
func nodeUpdate(n, o *corev1.Node) List {
	var errs List
	const detail = "node updates may not change podCIDR except from \"\" to valid"
	if old := o.GetSpec().GetPodCidr(); old != "" && old != n.GetSpec().GetPodCidr() {
		errs = append(errs, forbidden("spec.podCIDR", detail))
	}
	if old := o.GetSpec().GetPodCidrs(); len(old) > 0 && !slices.Equal(old, n.GetSpec().GetPodCidrs()) {
		errs = append(errs, forbidden("spec.podCIDRs", detail))
	}
	return errs
}
