package validation

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
)

// serviceName is Kubernetes' rule for Service names: a DNS-1035 label, so
// that it can be a DNS name and an environment variable prefix.
func serviceName(s string) []string { return k8svalidation.IsDNS1035Label(s) }

func validateService(svc *corev1.Service) List {
	errs := validateMeta(svc.GetMetadata(), metaOpts{namespaced: true, name: serviceName})
	s, p := svc.GetSpec(), path("spec")
	if s == nil {
		return append(errs, required(p, ""))
	}
	typ := s.GetType()
	errs = append(errs, oneOf(p.child("type"), typ, "ClusterIP", "NodePort", "LoadBalancer", "ExternalName")...)
	headless := s.GetClusterIp() == "None"
	if typ == "ExternalName" {
		if s.GetClusterIp() != "" {
			errs = append(errs, forbidden(p.child("clusterIP"), "may not be set for ExternalName services"))
		}
		if len(s.GetClusterIps()) > 0 {
			errs = append(errs, forbidden(p.child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if s.GetExternalName() == "" {
			errs = append(errs, required(p.child("externalName"), ""))
		} else {
			n := strings.TrimSuffix(s.GetExternalName(), ".")
			errs = append(errs, check(p.child("externalName"), s.GetExternalName(), names.Subdomain(n))...)
		}
		if s.IpFamilyPolicy != nil {
			errs = append(errs, forbidden(p.child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
	} else if len(s.GetPorts()) == 0 && !headless {
		errs = append(errs, required(p.child("ports"), ""))
	}
	if headless && (typ == "NodePort" || typ == "LoadBalancer") {
		errs = append(errs, invalid(p.child("clusterIP"), "None", "may not be set to 'None' for "+typ+" services"))
	}
	if c := s.GetClusterIp(); c != "" && !headless {
		if _, err := netip.ParseAddr(c); err != nil {
			errs = append(errs, invalid(p.child("clusterIP"), c, "must be empty, 'None', or a valid IP address"))
		}
	}
	for i, c := range s.GetClusterIps() {
		if _, err := netip.ParseAddr(c); err != nil && !(i == 0 && c == "None") {
			errs = append(errs, invalid(p.child("clusterIPs").index(i), c, "must be a valid IP address"))
		}
	}
	if len(s.GetClusterIps()) > 0 && s.GetClusterIp() != "" && s.GetClusterIps()[0] != s.GetClusterIp() {
		errs = append(errs, invalid(p.child("clusterIPs").index(0), s.GetClusterIps()[0], "must be same as clusterIP"))
	}
	errs = append(errs, servicePorts(p.child("ports"), s.GetPorts(), typ)...)
	errs = append(errs, oneOf(p.child("sessionAffinity"), s.GetSessionAffinity(), "None", "ClientIP")...)
	errs = append(errs, labels(p.child("selector"), s.GetSelector())...)
	for i, ip := range s.GetExternalIps() {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, invalid(p.child("externalIPs").index(i), ip, "must be a valid IP address"))
		}
	}
	if lb := s.GetLoadBalancerIp(); lb != "" {
		if _, err := netip.ParseAddr(lb); err != nil {
			errs = append(errs, invalid(p.child("loadBalancerIP"), lb, "must be a valid IP address"))
		}
	}
	errs = append(errs, oneOf(p.child("externalTrafficPolicy"), s.GetExternalTrafficPolicy(), "Cluster", "Local")...)
	if s.GetExternalTrafficPolicy() != "" && typ != "NodePort" && typ != "LoadBalancer" {
		errs = append(errs, invalid(p.child("externalTrafficPolicy"), s.GetExternalTrafficPolicy(), "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
	}
	if s.InternalTrafficPolicy != nil {
		errs = append(errs, oneOf(p.child("internalTrafficPolicy"), s.GetInternalTrafficPolicy(), "Cluster", "Local")...)
	}
	if s.IpFamilyPolicy != nil {
		errs = append(errs, oneOf(p.child("ipFamilyPolicy"), s.GetIpFamilyPolicy(), "SingleStack", "PreferDualStack", "RequireDualStack")...)
	}
	errs = append(errs, ipFamilies(p.child("ipFamilies"), s.GetIpFamilies())...)
	return errs
}

func ipFamilies(p path, fams []string) List {
	var errs List
	if len(fams) > 2 {
		errs = append(errs, invalid(p, fams, "may specify no more than one IP for each IP family"))
	}
	seen := map[string]bool{}
	for i, f := range fams {
		if seen[f] {
			errs = append(errs, duplicate(p.index(i), f))
		}
		seen[f] = true
		if f != "IPv4" && f != "IPv6" {
			errs = append(errs, notSupported(p.index(i), f, "IPv4", "IPv6"))
		}
	}
	return errs
}

func servicePorts(p path, ports []*corev1.ServicePort, typ string) List {
	var errs List
	names := map[string]bool{}
	portProtos := map[string]bool{}
	for i, sp := range ports {
		ip := p.index(i)
		switch {
		case sp.GetName() == "" && len(ports) > 1:
			errs = append(errs, required(ip.child("name"), ""))
		case sp.GetName() != "" && names[sp.GetName()]:
			errs = append(errs, duplicate(ip.child("name"), sp.GetName()))
		case sp.GetName() != "":
			errs = append(errs, check(ip.child("name"), sp.GetName(), k8svalidation.IsDNS1123Label(sp.GetName()))...)
		}
		names[sp.GetName()] = true
		errs = append(errs, portNumber(ip.child("port"), sp.GetPort())...)
		errs = append(errs, oneOf(ip.child("protocol"), sp.GetProtocol(), "TCP", "UDP", "SCTP")...)
		proto := sp.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		key := fmt.Sprintf("%d/%s", sp.GetPort(), proto)
		if portProtos[key] {
			errs = append(errs, duplicate(ip, key))
		}
		portProtos[key] = true
		if _, _, _, set, _ := intOrString(sp.GetTargetPort()); set {
			errs = append(errs, portNumOrName(ip.child("targetPort"), sp.GetTargetPort())...)
		}
		if np := sp.GetNodePort(); np != 0 {
			if typ != "NodePort" && typ != "LoadBalancer" {
				errs = append(errs, forbidden(ip.child("nodePort"), "may not be used when `type` is '"+defaultString(typ, "ClusterIP")+"'"))
			} else if np < 0 || np > 65535 {
				errs = append(errs, invalid(ip.child("nodePort"), np, portRange))
			}
		}
	}
	return errs
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func validateEndpoints(ep *corev1.Endpoints) List {
	errs := validateMeta(ep.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	for i, ss := range ep.GetSubsets() {
		p := path("subsets").index(i)
		if len(ss.GetAddresses()) == 0 && len(ss.GetNotReadyAddresses()) == 0 {
			errs = append(errs, required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		errs = append(errs, endpointAddresses(p.child("addresses"), ss.GetAddresses())...)
		errs = append(errs, endpointAddresses(p.child("notReadyAddresses"), ss.GetNotReadyAddresses())...)
		seen := map[string]bool{}
		for j, port := range ss.GetPorts() {
			pp := p.child("ports").index(j)
			switch {
			case port.GetName() == "" && len(ss.GetPorts()) > 1:
				errs = append(errs, required(pp.child("name"), ""))
			case port.GetName() != "" && seen[port.GetName()]:
				errs = append(errs, duplicate(pp.child("name"), port.GetName()))
			case port.GetName() != "":
				errs = append(errs, check(pp.child("name"), port.GetName(), k8svalidation.IsDNS1123Label(port.GetName()))...)
			}
			seen[port.GetName()] = true
			errs = append(errs, portNumber(pp.child("port"), port.GetPort())...)
			errs = append(errs, oneOf(pp.child("protocol"), port.GetProtocol(), "TCP", "UDP", "SCTP")...)
		}
	}
	return errs
}

func endpointAddresses(p path, addrs []*corev1.EndpointAddress) List {
	var errs List
	for i, a := range addrs {
		ip := p.index(i)
		if _, err := netip.ParseAddr(a.GetIp()); err != nil {
			errs = append(errs, invalid(ip.child("ip"), a.GetIp(), "must be a valid IP address"))
		}
		if h := a.GetHostname(); h != "" {
			errs = append(errs, check(ip.child("hostname"), h, names.Label(h))...)
		}
		if a.NodeName != nil {
			errs = append(errs, check(ip.child("nodeName"), a.GetNodeName(), names.Subdomain(a.GetNodeName()))...)
		}
	}
	return errs
}

// serviceUpdate keeps an allocated cluster IP, unless the type changes to or
// from ExternalName.
func serviceUpdate(n, o *corev1.Service) List {
	oldIP, newIP := o.GetSpec().GetClusterIp(), n.GetSpec().GetClusterIp()
	if oldIP == "" || oldIP == newIP || o.GetSpec().GetType() == "ExternalName" || n.GetSpec().GetType() == "ExternalName" {
		return nil
	}
	return List{invalid("spec.clusterIP", newIP, "field is immutable")}
}
