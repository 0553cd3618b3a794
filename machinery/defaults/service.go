package defaults

import (
	"net/netip"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func service(svc *corev1.Service) {
	s := svc.GetSpec()
	if s == nil {
		return
	}
	setString(&s.Type, "ClusterIP")
	setString(&s.SessionAffinity, "None")
	for _, p := range s.GetPorts() {
		setString(&p.Protocol, "TCP")
		if p.GetTargetPort().GetKind() == nil {
			p.TargetPort = structpb.NewNumberValue(float64(p.GetPort()))
		}
	}
	if s.Type == "ExternalName" {
		return
	}
	// clusterIPs[0] is clusterIP: whichever the client set fills the other.
	switch {
	case s.ClusterIp == "" && len(s.ClusterIps) > 0:
		s.ClusterIp = s.ClusterIps[0]
	case s.ClusterIp != "" && len(s.ClusterIps) == 0:
		s.ClusterIps = []string{s.ClusterIp}
	}
	if s.Type == "NodePort" || s.Type == "LoadBalancer" {
		setString(&s.ExternalTrafficPolicy, "Cluster")
	}
	if s.InternalTrafficPolicy == nil {
		s.InternalTrafficPolicy = proto.String("Cluster")
	}
	if s.IpFamilyPolicy == nil {
		s.IpFamilyPolicy = proto.String("SingleStack")
	}
	if len(s.IpFamilies) == 0 {
		family := "IPv4"
		if a, err := netip.ParseAddr(s.GetClusterIp()); err == nil && a.Is6() && !a.Is4In6() {
			family = "IPv6"
		}
		s.IpFamilies = []string{family}
	}
}

func endpoints(ep *corev1.Endpoints) {
	for _, ss := range ep.GetSubsets() {
		for _, p := range ss.GetPorts() {
			setString(&p.Protocol, "TCP")
		}
	}
}
