package registry

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

// prepareServiceUpdate keeps what the server allocated when an update
// leaves it out (a manifest applied again has no clusterIP or nodePort), and
// drops what the new type no longer holds when the update kept the old
// value: the cluster IP of a Service turned ExternalName, the node ports of
// one turned ClusterIP.
func prepareServiceUpdate(nextObj, curObj proto.Message) {
	next, cur := nextObj.(*corev1.Service), curObj.(*corev1.Service)
	n, c := next.GetSpec(), cur.GetSpec()
	if n == nil || c == nil {
		return
	}
	switch {
	case n.GetType() == "ExternalName":
		if n.GetClusterIp() == c.GetClusterIp() {
			n.ClusterIp, n.ClusterIps = "", nil
		}
		if proto.Equal(&corev1.ServiceSpec{IpFamilyPolicy: n.IpFamilyPolicy, IpFamilies: n.IpFamilies}, &corev1.ServiceSpec{IpFamilyPolicy: c.IpFamilyPolicy, IpFamilies: c.IpFamilies}) {
			n.IpFamilyPolicy, n.IpFamilies = nil, nil
		}
	case n.GetClusterIp() == "" && len(n.GetClusterIps()) == 0 && c.GetType() != "ExternalName":
		n.ClusterIp = c.GetClusterIp()
		n.ClusterIps = append([]string(nil), c.GetClusterIps()...)
	}
	oldNodePorts := c.GetType() == "NodePort" || c.GetType() == "LoadBalancer"
	newNodePorts := n.GetType() == "NodePort" || n.GetType() == "LoadBalancer"
	if !oldNodePorts {
		return
	}
	if !newNodePorts && n.GetExternalTrafficPolicy() == c.GetExternalTrafficPolicy() {
		n.ExternalTrafficPolicy = ""
	}
	for _, p := range n.GetPorts() {
		old := matchingPort(c.GetPorts(), p)
		if old == nil {
			continue
		}
		switch {
		case newNodePorts && p.GetNodePort() == 0:
			p.NodePort = old.GetNodePort()
		case !newNodePorts && p.GetNodePort() == old.GetNodePort():
			p.NodePort = 0
		}
	}
}

// matchingPort finds the port of the same number and protocol.
func matchingPort(ports []*corev1.ServicePort, p *corev1.ServicePort) *corev1.ServicePort {
	for _, o := range ports {
		if o.GetPort() == p.GetPort() && o.GetProtocol() == p.GetProtocol() {
			return o
		}
	}
	return nil
}
