package pods

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// masterService is the Service in default whose variables every pod gets,
// also with enableServiceLinks false.
const masterService = "kubernetes"

// ServiceLister reads the Services whose variables a pod gets.
type ServiceLister interface {
	// ServicesFor returns the Services of namespace ns and the kubernetes
	// Service of default.
	ServicesFor(ns string) []*corev1.Service
}

// envVar is one variable of a container's environment.
type envVar struct{ name, value string }

// serviceEnv is the Service variables a pod in ns gets, as the kubelet
// makes them: for every Service of its namespace with a cluster IP (when
// links is true) and for default/kubernetes (always; a kubernetes Service
// of the pod's own namespace takes its place when links is true),
// <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT, <NAME>_SERVICE_PORT_<PORTNAME>
// and the Docker link variables <NAME>_PORT, <NAME>_PORT_<port>_<PROTO>
// with _PROTO, _PORT and _ADDR. Services come in name order, each one's
// variables in that order.
func serviceEnv(ns string, links bool, services []*corev1.Service) []envVar {
	byName := map[string]*corev1.Service{}
	for _, s := range services {
		if !hasClusterIP(s) {
			continue
		}
		md := s.GetMetadata()
		switch {
		case md.GetNamespace() == "default" && md.GetName() == masterService:
			if _, ok := byName[masterService]; !ok {
				byName[masterService] = s
			}
		case md.GetNamespace() == ns && links:
			byName[md.GetName()] = s
		}
	}
	picked := make([]*corev1.Service, 0, len(byName))
	for _, s := range byName {
		picked = append(picked, s)
	}
	slices.SortFunc(picked, func(a, b *corev1.Service) int {
		return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
	var out []envVar
	for _, s := range picked {
		out = append(out, serviceVars(s)...)
	}
	return out
}

// hasClusterIP says whether the Service has a virtual IP (not headless,
// not ExternalName) and at least one port.
func hasClusterIP(s *corev1.Service) bool {
	ip := s.GetSpec().GetClusterIp()
	return ip != "" && ip != "None" && len(s.GetSpec().GetPorts()) > 0
}

// serviceVars is one Service's variables.
func serviceVars(s *corev1.Service) []envVar {
	prefix := envVarName(s.GetMetadata().GetName())
	ip := s.GetSpec().GetClusterIp()
	ports := s.GetSpec().GetPorts()
	out := []envVar{
		{prefix + "_SERVICE_HOST", ip},
		{prefix + "_SERVICE_PORT", strconv.Itoa(int(ports[0].GetPort()))},
	}
	for _, p := range ports {
		if p.GetName() != "" {
			out = append(out, envVar{prefix + "_SERVICE_PORT_" + envVarName(p.GetName()), strconv.Itoa(int(p.GetPort()))})
		}
	}
	for i, p := range ports {
		proto := strings.ToUpper(cmp.Or(p.GetProtocol(), "TCP"))
		port := strconv.Itoa(int(p.GetPort()))
		url := strings.ToLower(proto) + "://" + net.JoinHostPort(ip, port)
		if i == 0 {
			out = append(out, envVar{prefix + "_PORT", url})
		}
		pp := fmt.Sprintf("%s_PORT_%s_%s", prefix, port, proto)
		out = append(out,
			envVar{pp, url},
			envVar{pp + "_PROTO", strings.ToLower(proto)},
			envVar{pp + "_PORT", port},
			envVar{pp + "_ADDR", ip},
		)
	}
	return out
}

// envVarName upper-cases a Service or port name and turns - into _.
func envVarName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}
