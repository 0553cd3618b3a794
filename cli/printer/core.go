package printer

import (
	"fmt"
	"sort"
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
	external := "<none>"
	if len(sp.GetExternalIps()) > 0 {
		external = strings.Join(sp.GetExternalIps(), ",")
	} else if sp.GetType() == "LoadBalancer" {
		external = "<pending>"
	} else if sp.GetType() == "ExternalName" {
		external = sp.GetExternalName()
	}
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

func endpointsRow(obj proto.Message, now time.Time) ([]string, []string) {
	e := obj.(*corev1.Endpoints)
	var eps []string
	for _, ss := range e.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			if len(ss.GetPorts()) == 0 {
				eps = append(eps, a.GetIp())
			}
			for _, p := range ss.GetPorts() {
				eps = append(eps, fmt.Sprintf("%s:%d", a.GetIp(), p.GetPort()))
			}
		}
	}
	list := strings.Join(eps, ",")
	if len(eps) > 3 {
		list = strings.Join(eps[:3], ",") + fmt.Sprintf(" + %d more...", len(eps)-3)
	}
	return []string{e.GetMetadata().GetName(), orNone(list), Age(e.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func secretRow(obj proto.Message, now time.Time) ([]string, []string) {
	s := obj.(*corev1.Secret)
	return []string{s.GetMetadata().GetName(), orDefault(s.GetType(), "Opaque"), fmt.Sprint(len(s.GetData()) + len(s.GetStringData())), Age(s.GetMetadata().GetCreationTimestamp(), now)}, nil
}

func configMapRow(obj proto.Message, now time.Time) ([]string, []string) {
	c := obj.(*corev1.ConfigMap)
	return []string{c.GetMetadata().GetName(), fmt.Sprint(len(c.GetData()) + len(c.GetBinaryData())), Age(c.GetMetadata().GetCreationTimestamp(), now)}, nil
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
