package validation

import (
	"net/netip"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

func validatePod(pod *corev1.Pod) List {
	errs := validateMeta(pod.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	if pod.GetSpec() == nil {
		return append(errs, required("spec", ""))
	}
	return append(errs, podSpec("spec", pod.GetSpec())...)
}

// podTemplate checks the pod template of a controller; restartPolicies, when
// given, are the only restart policies allowed, "" standing for Always.
func podTemplate(p path, t *corev1.PodTemplateSpec, restartPolicies ...string) List {
	if t == nil {
		return List{required(p, "")}
	}
	errs := templateMeta(p.child("metadata"), t.GetMetadata())
	if t.GetSpec() == nil {
		return append(errs, required(p.child("spec"), ""))
	}
	errs = append(errs, podSpec(p.child("spec"), t.GetSpec())...)
	if len(restartPolicies) == 0 {
		return errs
	}
	rp, rpPath := t.GetSpec().GetRestartPolicy(), p.child("spec", "restartPolicy")
	for _, allowed := range restartPolicies {
		if rp == allowed {
			return errs
		}
	}
	if rp == "" && restartPolicies[0] != "Always" {
		return append(errs, required(rpPath, "valid values: \"OnFailure\", \"Never\""))
	}
	if rp == "Always" || rp == "OnFailure" || rp == "Never" { // otherwise podSpec said so
		errs = append(errs, notSupported(rpPath, rp, restartPolicies...))
	}
	return errs
}

func podSpec(p path, s *corev1.PodSpec) List {
	vols, errs := volumes(p.child("volumes"), s.GetVolumes())
	if len(s.GetContainers()) == 0 {
		errs = append(errs, required(p.child("containers"), ""))
	}
	seen := map[string]bool{}
	errs = append(errs, containers(p.child("initContainers"), s.GetInitContainers(), vols, seen, s.GetHostNetwork())...)
	errs = append(errs, containers(p.child("containers"), s.GetContainers(), vols, seen, s.GetHostNetwork())...)
	errs = append(errs, oneOf(p.child("restartPolicy"), s.GetRestartPolicy(), "Always", "OnFailure", "Never")...)
	errs = append(errs, oneOf(p.child("dnsPolicy"), s.GetDnsPolicy(), "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")...)
	errs = append(errs, dnsConfig(p, s)...)
	errs = append(errs, optNonNegative(p.child("terminationGracePeriodSeconds"), s.TerminationGracePeriodSeconds)...)
	errs = append(errs, optPositive(p.child("activeDeadlineSeconds"), s.ActiveDeadlineSeconds)...)
	errs = append(errs, labels(p.child("nodeSelector"), s.GetNodeSelector())...)
	errs = append(errs, tolerations(p.child("tolerations"), s.GetTolerations())...)
	errs = append(errs, nodeAffinity(p.child("affinity", "nodeAffinity"), s.GetAffinity().GetNodeAffinity())...)
	for _, f := range []struct {
		name, value string
		check       nameFunc
	}{
		{"serviceAccountName", s.GetServiceAccountName(), names.Subdomain},
		{"nodeName", s.GetNodeName(), names.Subdomain},
		{"hostname", s.GetHostname(), names.Label},
		{"subdomain", s.GetSubdomain(), names.Label},
		{"priorityClassName", s.GetPriorityClassName(), names.Subdomain},
	} {
		if f.value != "" {
			errs = append(errs, check(p.child(f.name), f.value, f.check(f.value))...)
		}
	}
	for i, a := range s.GetHostAliases() {
		if _, err := netip.ParseAddr(a.GetIp()); err != nil {
			errs = append(errs, invalid(p.child("hostAliases").index(i).child("ip"), a.GetIp(), "must be a valid IP address"))
		}
	}
	return errs
}

func dnsConfig(p path, s *corev1.PodSpec) List {
	var errs List
	c := s.GetDnsConfig()
	if s.GetDnsPolicy() == "None" && len(c.GetNameservers()) == 0 {
		errs = append(errs, required(p.child("dnsConfig", "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
	}
	if len(c.GetNameservers()) > 3 {
		errs = append(errs, invalid(p.child("dnsConfig", "nameservers"), c.GetNameservers(), "must not have more than 3 nameservers"))
	}
	for i, ns := range c.GetNameservers() {
		if _, err := netip.ParseAddr(ns); err != nil {
			errs = append(errs, invalid(p.child("dnsConfig", "nameservers").index(i), ns, "must be a valid IP address"))
		}
	}
	if len(c.GetSearches()) > 32 {
		errs = append(errs, invalid(p.child("dnsConfig", "searches"), c.GetSearches(), "must not have more than 32 search paths"))
	}
	return errs
}

func tolerations(p path, ts []*corev1.Toleration) List {
	var errs List
	for i, t := range ts {
		ip := p.index(i)
		if t.GetKey() != "" {
			errs = append(errs, check(ip.child("key"), t.GetKey(), names.LabelKey(t.GetKey()))...)
		}
		switch t.GetOperator() {
		case "", "Equal":
			if t.GetKey() == "" {
				errs = append(errs, invalid(ip.child("operator"), t.GetOperator(), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
			}
			errs = append(errs, check(ip.child("value"), t.GetValue(), names.LabelValue(t.GetValue()))...)
		case "Exists":
			if t.GetValue() != "" {
				errs = append(errs, invalid(ip.child("operator"), t.GetValue(), "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, notSupported(ip.child("operator"), t.GetOperator(), "Equal", "Exists"))
		}
		if t.TolerationSeconds != nil && t.GetEffect() != "NoExecute" {
			errs = append(errs, invalid(ip.child("effect"), t.GetEffect(), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		errs = append(errs, oneOf(ip.child("effect"), t.GetEffect(), "NoSchedule", "PreferNoSchedule", "NoExecute")...)
	}
	return errs
}

func nodeAffinity(p path, a *corev1.NodeAffinity) List {
	var errs List
	req := p.child("requiredDuringSchedulingIgnoredDuringExecution")
	if a.GetRequiredDuringSchedulingIgnoredDuringExecution() != nil && len(a.GetRequiredDuringSchedulingIgnoredDuringExecution().GetNodeSelectorTerms()) == 0 {
		errs = append(errs, required(req.child("nodeSelectorTerms"), "must have at least one node selector term"))
	}
	for i, t := range a.GetRequiredDuringSchedulingIgnoredDuringExecution().GetNodeSelectorTerms() {
		errs = append(errs, nodeSelectorTerm(req.child("nodeSelectorTerms").index(i), t)...)
	}
	for i, t := range a.GetPreferredDuringSchedulingIgnoredDuringExecution() {
		ip := p.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
		if t.GetWeight() < 1 || t.GetWeight() > 100 {
			errs = append(errs, invalid(ip.child("weight"), t.GetWeight(), "must be in the range 1-100"))
		}
		errs = append(errs, nodeSelectorTerm(ip.child("preference"), t.GetPreference())...)
	}
	return errs
}

func nodeSelectorTerm(p path, t *corev1.NodeSelectorTerm) List {
	var errs List
	for i, r := range t.GetMatchExpressions() {
		ip := p.child("matchExpressions").index(i)
		errs = append(errs, check(ip.child("key"), r.GetKey(), names.LabelKey(r.GetKey()))...)
		n := len(r.GetValues())
		switch r.GetOperator() {
		case "In", "NotIn":
			if n == 0 {
				errs = append(errs, required(ip.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case "Exists", "DoesNotExist":
			if n > 0 {
				errs = append(errs, forbidden(ip.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		case "Gt", "Lt":
			if n != 1 {
				errs = append(errs, required(ip.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
			}
		default:
			errs = append(errs, notSupported(ip.child("operator"), r.GetOperator(), "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"))
		}
	}
	for i, r := range t.GetMatchFields() {
		ip := p.child("matchFields").index(i)
		if r.GetKey() != "metadata.name" {
			errs = append(errs, notSupported(ip.child("key"), r.GetKey(), "metadata.name"))
		}
		if (r.GetOperator() != "In" && r.GetOperator() != "NotIn") || len(r.GetValues()) != 1 {
			errs = append(errs, invalid(ip, r.GetOperator(), "must be 'In' or 'NotIn' with a single value"))
		}
	}
	return errs
}
