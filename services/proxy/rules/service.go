package rules

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// FromAPI returns the Service ports the proxy programs for svc and its
// Endpoints ep (nil when there are none yet). Headless and ExternalName
// Services, and ClusterIPs that are not IPv4, give none. Endpoints are
// matched to a Service port by name (the lone port of a Service may be
// unnamed) and protocol; only ready addresses count.
func FromAPI(svc *corev1.Service, ep *corev1.Endpoints) ([]ServicePort, error) {
	spec := svc.GetSpec()
	if spec.GetType() == "ExternalName" {
		return nil, nil
	}
	cip := spec.GetClusterIp()
	if cip == "" || cip == "None" {
		return nil, nil
	}
	ip, err := netip.ParseAddr(cip)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("service %s/%s: clusterIP %q is not an IPv4 address", svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName(), cip)
	}
	var out []ServicePort
	for _, p := range spec.GetPorts() {
		proto, err := ParseProtocol(p.GetProtocol())
		if err != nil {
			return nil, fmt.Errorf("service %s/%s port %q: %w", svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName(), p.GetName(), err)
		}
		if p.GetPort() < 1 || p.GetPort() > 65535 || p.GetNodePort() < 0 || p.GetNodePort() > 65535 {
			return nil, fmt.Errorf("service %s/%s port %q: port %d or nodePort %d out of range",
				svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName(), p.GetName(), p.GetPort(), p.GetNodePort())
		}
		sp := ServicePort{
			Namespace: svc.GetMetadata().GetNamespace(), Name: svc.GetMetadata().GetName(),
			PortName: p.GetName(), Protocol: proto, ClusterIP: ip, Port: uint16(p.GetPort()),
		}
		if t := spec.GetType(); t == "NodePort" || t == "LoadBalancer" {
			sp.NodePort = uint16(p.GetNodePort())
		}
		sp.Endpoints = readyEndpoints(ep, p.GetName(), proto)
		out = append(out, sp)
	}
	return out, nil
}

// ParseProtocol maps a Service port's protocol; empty means TCP.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToUpper(s) {
	case "", "TCP":
		return TCP, nil
	case "UDP":
		return UDP, nil
	case "SCTP":
		return SCTP, nil
	}
	return 0, fmt.Errorf("unsupported protocol %q", s)
}

// readyEndpoints are the ready IPv4 addresses of ep's subsets with a port
// of this name and protocol, sorted and without duplicates.
func readyEndpoints(ep *corev1.Endpoints, name string, proto Protocol) []Endpoint {
	seen := map[Endpoint]bool{}
	var out []Endpoint
	for _, ss := range ep.GetSubsets() {
		for _, port := range ss.GetPorts() {
			pp, err := ParseProtocol(port.GetProtocol())
			if err != nil || pp != proto || port.GetName() != name || port.GetPort() < 1 || port.GetPort() > 65535 {
				continue
			}
			for _, a := range ss.GetAddresses() {
				ip, err := netip.ParseAddr(a.GetIp())
				if err != nil || !ip.Is4() {
					continue
				}
				e := Endpoint{IP: ip, Port: uint16(port.GetPort())}
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].IP.Compare(out[j].IP); c != 0 {
			return c < 0
		}
		return out[i].Port < out[j].Port
	})
	return out
}
