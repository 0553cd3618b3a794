package printer

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func nodeRow(obj proto.Message, now time.Time) ([]string, []string) {
	n := obj.(*corev1.Node)
	status := "Unknown"
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			status = map[string]string{"True": "Ready", "False": "NotReady"}[c.GetStatus()]
			if status == "" {
				status = "Unknown"
			}
		}
	}
	if n.GetSpec().GetUnschedulable() {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k := range n.GetMetadata().GetLabels() {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	info := n.GetStatus().GetNodeInfo()
	cells := []string{n.GetMetadata().GetName(), status, orNone(strings.Join(roles, ",")), Age(n.GetMetadata().GetCreationTimestamp(), now), info.GetKubeletVersion()}
	return cells, []string{orNone(address(n, "InternalIP")), orNone(address(n, "ExternalIP")), orUnknown(info.GetOsImage()), orUnknown(info.GetKernelVersion()), orUnknown(info.GetContainerRuntimeVersion())}
}

func address(n *corev1.Node, typ string) string {
	for _, a := range n.GetStatus().GetAddresses() {
		if a.GetType() == typ {
			return a.GetAddress()
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func namespaceRow(obj proto.Message, now time.Time) ([]string, []string) {
	ns := obj.(*corev1.Namespace)
	return []string{ns.GetMetadata().GetName(), orDefault(ns.GetStatus().GetPhase(), "Active"), Age(ns.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func serviceRow(obj proto.Message, now time.Time) ([]string, []string) {
	s := obj.(*corev1.Service)
	sp := s.GetSpec()
	external := serviceExternalIP(s)
	var ports []string
	for _, p := range sp.GetPorts() {
		proto := orDefault(p.GetProtocol(), "TCP")
		if p.GetNodePort() != 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.GetPort(), p.GetNodePort(), proto))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.GetPort(), proto))
		}
	}
	selector := "<none>"
	if len(sp.GetSelector()) > 0 {
		selector = Labels(sp.GetSelector())
	}
	return []string{s.GetMetadata().GetName(), orDefault(sp.GetType(), "ClusterIP"), orNone(sp.GetClusterIp()), external, orNone(strings.Join(ports, ",")), Age(s.GetMetadata().GetCreationTimestamp(), now)}, []string{selector}
}

// serviceExternalIP is kubectl's EXTERNAL-IP: the external IPs, for a
// LoadBalancer also its ingress points (<pending> without any), the
// external name of an ExternalName Service.
func serviceExternalIP(s *corev1.Service) string {
	sp := s.GetSpec()
	ips := slices.Clone(sp.GetExternalIps())
	switch sp.GetType() {
	case "ExternalName":
		return sp.GetExternalName()
	case "LoadBalancer":
		for _, in := range s.GetStatus().GetLoadBalancer().GetIngress() {
			if in.GetIp() != "" {
				ips = append(ips, in.GetIp())
			} else if in.GetHostname() != "" {
				ips = append(ips, in.GetHostname())
			}
		}
		if len(ips) == 0 {
			return "<pending>"
		}
	}
	return orNone(strings.Join(ips, ","))
}

func endpointsRow(obj proto.Message, now time.Time) ([]string, []string) {
	e := obj.(*corev1.Endpoints)
	return []string{e.GetMetadata().GetName(), orNone(Endpoints(e, nil)), Age(e.GetMetadata().GetCreationTimestamp(), now)}, nil
}

// Endpoints formats the ready addresses of e as kubectl does: ip:port for
// each port (of the named ones when ports is not nil) and each address,
// the first three then "+ N more...", an address alone for a subset
// without ports, "<none>" when e has no subsets.
func Endpoints(e *corev1.Endpoints, ports map[string]bool) string {
	if len(e.GetSubsets()) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < max {
			list = append(list, s)
		}
	}
	for _, ss := range e.GetSubsets() {
		if len(ss.GetPorts()) == 0 {
			for _, a := range ss.GetAddresses() {
				add(a.GetIp())
			}
			continue
		}
		for _, p := range ss.GetPorts() {
			if ports != nil && !ports[p.GetName()] {
				continue
			}
			for _, a := range ss.GetAddresses() {
				add(net.JoinHostPort(a.GetIp(), strconv.Itoa(int(p.GetPort()))))
			}
		}
	}
	out := strings.Join(list, ",")
	if count > max {
		out += fmt.Sprintf(" + %d more...", count-max)
	}
	return out
}

func secretRow(obj proto.Message, now time.Time) ([]string, []string) {
	s := obj.(*corev1.Secret)
	return []string{s.GetMetadata().GetName(), orDefault(s.GetType(), "Opaque"), fmt.Sprint(len(s.GetData()) + len(s.GetStringData())), Age(s.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func configMapRow(obj proto.Message, now time.Time) ([]string, []string) {
	c := obj.(*corev1.ConfigMap)
	return []string{c.GetMetadata().GetName(), fmt.Sprint(len(c.GetData()) + len(c.GetBinaryData())), Age(c.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func serviceAccountRow(obj proto.Message, now time.Time) ([]string, []string) {
	sa := obj.(*corev1.ServiceAccount)
	return []string{sa.GetMetadata().GetName(), fmt.Sprint(len(sa.GetSecrets())), Age(sa.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func eventRow(obj proto.Message, now time.Time) ([]string, []string) {
	e := obj.(*corev1.Event)
	last := e.GetLastTimestamp()
	if last == nil {
		last = e.GetEventTime()
	}
	if last == nil {
		last = e.GetMetadata().GetCreationTimestamp()
	}
	io := e.GetInvolvedObject()
	return []string{Age(last, now), e.GetType(), e.GetReason(), strings.ToLower(io.GetKind()) + "/" + io.GetName(), e.GetMessage()}, nil
}

// IntOrString prints an int-or-string value (a port, maxSurge).
func IntOrString(v *structpb.Value) string {
	switch x := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return fmt.Sprint(int64(x.NumberValue))
	case *structpb.Value_StringValue:
		return x.StringValue
	}
	return ""
}
