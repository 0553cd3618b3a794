package describe

import (
	"cmp"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/cli/printer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Service describes a Service as kubectl does, each port with its target
// port, node port and the endpoints behind it (from ep, which may be nil
// when the Service has no Endpoints object).
func Service(out io.Writer, s *corev1.Service, ep *corev1.Endpoints, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	m, sp := s.GetMetadata(), s.GetSpec()
	w.line(0, "Name:\t%s", m.GetName())
	w.line(0, "Namespace:\t%s", m.GetNamespace())
	w.mapLines(0, "Labels", m.GetLabels())
	w.mapLines(0, "Annotations", m.GetAnnotations())
	w.line(0, "Selector:\t%s", printer.Labels(sp.GetSelector()))
	w.line(0, "Type:\t%s", cmp.Or(sp.GetType(), "ClusterIP"))
	if sp.IpFamilyPolicy != nil {
		w.line(0, "IP Family Policy:\t%s", sp.GetIpFamilyPolicy())
	}
	w.line(0, "IP Families:\t%s", orNone(strings.Join(sp.GetIpFamilies(), ",")))
	w.line(0, "IP:\t%s", sp.GetClusterIp())
	w.line(0, "IPs:\t%s", orNone(strings.Join(sp.GetClusterIps(), ",")))
	if ips := sp.GetExternalIps(); len(ips) > 0 {
		w.line(0, "External IPs:\t%s", strings.Join(ips, ","))
	}
	if ip := sp.GetLoadBalancerIp(); ip != "" {
		w.line(0, "Desired LoadBalancer IP:\t%s", ip)
	}
	var ingress []string
	for _, in := range s.GetStatus().GetLoadBalancer().GetIngress() {
		ingress = append(ingress, cmp.Or(in.GetIp(), in.GetHostname()))
	}
	if len(ingress) > 0 {
		w.line(0, "LoadBalancer Ingress:\t%s", strings.Join(ingress, ", "))
	}
	if sp.GetType() == "ExternalName" {
		w.line(0, "External Name:\t%s", sp.GetExternalName())
	}
	if ep == nil {
		ep = &corev1.Endpoints{}
	}
	for _, p := range sp.GetPorts() {
		name := cmp.Or(p.GetName(), "<unset>")
		proto := cmp.Or(p.GetProtocol(), "TCP")
		w.line(0, "Port:\t%s  %d/%s", name, p.GetPort(), proto)
		w.line(0, "TargetPort:\t%s/%s", cmp.Or(printer.IntOrString(p.GetTargetPort()), strconv.Itoa(int(p.GetPort()))), proto)
		if p.GetNodePort() != 0 {
			w.line(0, "NodePort:\t%s  %d/%s", name, p.GetNodePort(), proto)
		}
		w.line(0, "Endpoints:\t%s", printer.Endpoints(ep, map[string]bool{p.GetName(): true}))
	}
	w.line(0, "Session Affinity:\t%s", cmp.Or(sp.GetSessionAffinity(), "None"))
	if p := sp.GetExternalTrafficPolicy(); p != "" {
		w.line(0, "External Traffic Policy:\t%s", p)
	}
	if sp.InternalTrafficPolicy != nil {
		w.line(0, "Internal Traffic Policy:\t%s", sp.GetInternalTrafficPolicy())
	}
	w.events(events, now)
	return w.flush()
}
