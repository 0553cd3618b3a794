package kubelet

import (
	"errors"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func node(port int32, addrs ...string) *corev1.Node {
	n := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}, Status: &corev1.NodeStatus{}}
	for i := 0; i+1 < len(addrs); i += 2 {
		n.Status.Addresses = append(n.Status.Addresses, &corev1.NodeAddress{Type: addrs[i], Address: addrs[i+1]})
	}
	if port != 0 {
		n.Status.DaemonEndpoints = &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: port}}
	}
	return n
}

func TestAddress(t *testing.T) {
	tests := []struct {
		name string
		node *corev1.Node
		want string
		err  string
	}{
		{"internal first", node(10250, "ExternalIP", "203.0.113.9", "Hostname", "n1", "InternalIP", "10.0.0.5"), "10.0.0.5:10250", ""},
		{"hostname next", node(10250, "ExternalIP", "203.0.113.9", "Hostname", "n1.local"), "n1.local:10250", ""},
		{"external last", node(10250, "ExternalIP", "203.0.113.9"), "203.0.113.9:10250", ""},
		{"ipv6", node(10250, "InternalIP", "fd00::5"), "[fd00::5]:10250", ""},
		{"empty address skipped", node(10250, "InternalIP", "", "Hostname", "n1"), "n1:10250", ""},
		{"no address", node(10250), "", `node "n1" reports no address`},
		{"unknown types only", node(10250, "Other", "x"), "", `node "n1" reports no address`},
		{"no port", node(0, "InternalIP", "10.0.0.5"), "", `node "n1" reports no kubelet port`},
		{"port out of range", node(70000, "InternalIP", "10.0.0.5"), "", "reports no kubelet port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Address(tt.node)
			if tt.err != "" {
				var ae *AddressError
				if !errors.As(err, &ae) || ae.Node != "n1" || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Address = %q, %v; want an AddressError containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Address = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
