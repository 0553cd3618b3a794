package endpoint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
)

// Unresolved is a pod left out of one Service port: none of its
// containers has a port of the target port's name.
type Unresolved struct {
	Pod, Port, TargetPort string
}

// group is the pods that share one set of resolved ports.
type group struct {
	ports           []*corev1.EndpointPort
	ready, notReady []*corev1.EndpointAddress
}

// Subsets computes the subsets of a Service's Endpoints from the pods its
// selector matches. Pods without an IP and finished pods are left out, and
// so are pods being deleted unless the Service publishes not-ready
// addresses (as Kubernetes' Endpoints controller does); ready pods go in
// addresses, pods not ready in notReadyAddresses (all of them in addresses
// when the Service publishes not-ready addresses). Pods with the same resolved ports share a subset.
// The result is sorted, so equal inputs give equal output.
func Subsets(svc *corev1.Service, pods []*corev1.Pod) ([]*corev1.EndpointSubset, []Unresolved) {
	publish := svc.GetSpec().GetPublishNotReadyAddresses()
	groups := map[string]*group{}
	var unresolved []Unresolved
	for _, p := range pods {
		ph := p.GetStatus().GetPhase()
		if p.GetStatus().GetPodIp() == "" || ph == "Succeeded" || ph == "Failed" {
			continue
		}
		if !publish && p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		var ports []*corev1.EndpointPort
		for _, sp := range svc.GetSpec().GetPorts() {
			num, ok := targetPort(p, sp)
			if !ok {
				unresolved = append(unresolved, Unresolved{Pod: p.GetMetadata().GetName(), Port: portName(sp), TargetPort: sp.GetTargetPort().GetStringValue()})
				continue
			}
			ports = append(ports, &corev1.EndpointPort{Name: sp.GetName(), Port: num, Protocol: protocol(sp.GetProtocol())})
		}
		if len(ports) == 0 && len(svc.GetSpec().GetPorts()) > 0 {
			continue // no port resolves: nothing to reach the pod on
		}
		slices.SortFunc(ports, func(a, b *corev1.EndpointPort) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
		})
		k := portsKey(ports)
		g := groups[k]
		if g == nil {
			g = &group{ports: ports}
			groups[k] = g
		}
		addr := address(svc, p)
		if publish || controller.Ready(p) {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*corev1.EndpointSubset, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		sortAddresses(g.ready)
		sortAddresses(g.notReady)
		out = append(out, &corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return out, unresolved
}

// targetPort resolves a Service port's target for one pod: a number is
// itself (the Service port when unset), a name is the pod's container port
// of that name and protocol.
func targetPort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.GetTargetPort()
	if name := tp.GetStringValue(); name != "" {
		for _, c := range p.GetSpec().GetContainers() {
			for _, cp := range c.GetPorts() {
				if cp.GetName() == name && protocol(cp.GetProtocol()) == protocol(sp.GetProtocol()) {
					return cp.GetContainerPort(), true
				}
			}
		}
		return 0, false
	}
	if n := int32(tp.GetNumberValue()); n > 0 {
		return n, true
	}
	return sp.GetPort(), true
}

// address is a pod's entry in an Endpoints subset. As in Kubernetes, the
// pod's spec.hostname is the address's hostname when its spec.subdomain
// names this Service (in the Service's namespace), so that DNS answers
// <hostname>.<service>.<namespace>.svc.
func address(svc *corev1.Service, p *corev1.Pod) *corev1.EndpointAddress {
	m := p.GetMetadata()
	a := &corev1.EndpointAddress{
		Ip:        p.GetStatus().GetPodIp(),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()},
	}
	sm, ps := svc.GetMetadata(), p.GetSpec()
	if ps.GetHostname() != "" && ps.GetSubdomain() == sm.GetName() && m.GetNamespace() == sm.GetNamespace() {
		a.Hostname = ps.GetHostname()
	}
	if n := p.GetSpec().GetNodeName(); n != "" {
		a.NodeName = &n
	}
	return a
}

func sortAddresses(a []*corev1.EndpointAddress) {
	slices.SortFunc(a, func(x, y *corev1.EndpointAddress) int {
		return cmp.Or(cmp.Compare(x.GetIp(), y.GetIp()), cmp.Compare(x.GetTargetRef().GetUid(), y.GetTargetRef().GetUid()))
	})
}

func protocol(p string) string {
	if p == "" {
		return "TCP"
	}
	return p
}

// portName names a Service port in an Event: its name, or its number.
func portName(sp *corev1.ServicePort) string {
	if sp.GetName() != "" {
		return sp.GetName()
	}
	return fmt.Sprint(sp.GetPort())
}

func portsKey(ports []*corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%05d;", p.Name, p.Protocol, p.Port)
	}
	return b.String()
}
