// Package kubelet is how the apiserver reaches the nodes' kubelets for
// pods/log and pods/exec: Address reads where a node's kubelet listens from
// its Node object, and Pool keeps one gRPC connection per kubelet address.
package kubelet

import (
	"fmt"
	"net"
	"strconv"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// addressTypes are the node address types tried, in order of preference.
var addressTypes = []string{"InternalIP", "Hostname", "InternalDNS", "ExternalIP", "ExternalDNS"}

// AddressError says why a node's kubelet cannot be located; the apiserver
// answers it as ServiceUnavailable.
type AddressError struct {
	// Node is the node's name, Reason what it lacks.
	Node, Reason string
}

func (e *AddressError) Error() string { return fmt.Sprintf("node %q %s", e.Node, e.Reason) }

// Address returns host:port of the node's kubelet: the first of its
// addresses by type (InternalIP, Hostname, InternalDNS, ExternalIP,
// ExternalDNS) and its status.daemonEndpoints.kubeletEndpoint.Port.
func Address(node *corev1.Node) (string, error) {
	name := node.GetMetadata().GetName()
	port := node.GetStatus().GetDaemonEndpoints().GetKubeletEndpoint().GetPort()
	if port <= 0 || port > 65535 {
		return "", &AddressError{Node: name, Reason: "reports no kubelet port (status.daemonEndpoints.kubeletEndpoint.Port)"}
	}
	for _, typ := range addressTypes {
		for _, a := range node.GetStatus().GetAddresses() {
			if a.GetType() == typ && a.GetAddress() != "" {
				return net.JoinHostPort(a.GetAddress(), strconv.Itoa(int(port))), nil
			}
		}
	}
	return "", &AddressError{Node: name, Reason: "reports no address (status.addresses has no InternalIP, Hostname or ExternalIP)"}
}
