package noderestriction

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
)

func node(labels map[string]string, spec *corev1.NodeSpec) *corev1.Node {
	return &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", Labels: labels}, Spec: spec}
}

func TestAdmit(t *testing.T) {
	base := node(map[string]string{"kubernetes.io/hostname": "n1", "node-role.kubernetes.io/worker": ""}, &corev1.NodeSpec{
		PodCidr: "10.244.1.0/24", PodCidrs: []string{"10.244.1.0/24"},
		Taints: []*corev1.Taint{{Key: "dedicated", Value: "db", Effect: "NoSchedule"}},
	})
	change := func(f func(n *corev1.Node)) *corev1.Node {
		n := proto.Clone(base).(*corev1.Node)
		f(n)
		return n
	}
	nodeUser := &authn.User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	admin := &authn.User{Name: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}}
	for _, tc := range []struct {
		name      string
		user      *authn.User
		cur, next *corev1.Node
		wantField string // "" allowed
	}{
		{"status-only update", nodeUser, base, change(func(n *corev1.Node) { n.Status = &corev1.NodeStatus{} }), ""},
		{"ordinary label added", nodeUser, base, change(func(n *corev1.Node) { n.Metadata.Labels["disk"] = "ssd" }), ""},
		{"taint removed", nodeUser, base, change(func(n *corev1.Node) { n.Spec.Taints = nil }), "spec.taints"},
		{"taint changed", nodeUser, base, change(func(n *corev1.Node) { n.Spec.Taints[0].Effect = "PreferNoSchedule" }), "spec.taints"},
		{"taint added", nodeUser, base, change(func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, &corev1.Taint{Key: "x", Effect: "NoExecute"})
		}), "spec.taints"},
		{"pod CIDR changed", nodeUser, base, change(func(n *corev1.Node) { n.Spec.PodCidr = "10.244.9.0/24" }), "spec.podCIDR"},
		{"pod CIDRs changed", nodeUser, base, change(func(n *corev1.Node) { n.Spec.PodCidrs = []string{"10.244.9.0/24"} }), "spec.podCIDRs"},
		{"pod CIDR set while empty", nodeUser, node(nil, &corev1.NodeSpec{}), node(nil, &corev1.NodeSpec{PodCidr: "10.244.1.0/24", PodCidrs: []string{"10.244.1.0/24"}}), ""},
		{"cordoned by itself", nodeUser, base, change(func(n *corev1.Node) { n.Spec.Unschedulable = true }), "spec.unschedulable"},
		{"uncordoned by itself", nodeUser, change(func(n *corev1.Node) { n.Spec.Unschedulable = true }), base, "spec.unschedulable"},
		{"node-role label removed", nodeUser, base, change(func(n *corev1.Node) { delete(n.Metadata.Labels, "node-role.kubernetes.io/worker") }), "metadata.labels[node-role.kubernetes.io/worker]"},
		{"node-role label added", nodeUser, base, change(func(n *corev1.Node) { n.Metadata.Labels["node-role.kubernetes.io/control-plane"] = "" }), "metadata.labels[node-role.kubernetes.io/control-plane]"},
		{"node-restriction label changed", nodeUser, change(func(n *corev1.Node) { n.Metadata.Labels["node-restriction.kubernetes.io/pool"] = "a" }),
			change(func(n *corev1.Node) { n.Metadata.Labels["node-restriction.kubernetes.io/pool"] = "b" }), "metadata.labels[node-restriction.kubernetes.io/pool]"},
		{"subdomain of node-restriction", nodeUser, base, change(func(n *corev1.Node) { n.Metadata.Labels["team.node-restriction.kubernetes.io/x"] = "y" }), "metadata.labels[team.node-restriction.kubernetes.io/x]"},
		{"create with taints and pod CIDR", nodeUser, nil, node(map[string]string{"disk": "ssd"}, base.Spec), ""},
		{"create with a node-role label", nodeUser, nil, node(map[string]string{"node-role.kubernetes.io/control-plane": ""}, nil), "metadata.labels[node-role.kubernetes.io/control-plane]"},
		{"create with a node-restriction label", nodeUser, nil, node(map[string]string{"node-restriction.kubernetes.io/pool": "a"}, nil), "metadata.labels[node-restriction.kubernetes.io/pool]"},
		{"admin changes taints", admin, base, change(func(n *corev1.Node) { n.Spec.Taints = nil }), ""},
		{"admin sets a node-role label", admin, base, change(func(n *corev1.Node) { n.Metadata.Labels["node-role.kubernetes.io/control-plane"] = "" }), ""},
		{"no user (insecure)", nil, base, change(func(n *corev1.Node) { n.Spec.Unschedulable = true }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.user != nil {
				ctx = authn.WithUser(ctx, tc.user)
			}
			var cur proto.Message
			if tc.cur != nil {
				cur = tc.cur
			}
			err := Admit(ctx, cur, tc.next)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Admit = %v, want allowed", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Admit allowed a change of %s", tc.wantField)
			}
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status.GetCode() != http.StatusForbidden || !strings.Contains(err.Error(), `node "n1" may not change `+tc.wantField) {
				t.Fatalf("Admit = %v (HTTP %d), want 403 naming %s", err, httpCode(e), tc.wantField)
			}
		})
	}
}

func httpCode(e *apierr.Error) int32 {
	if e == nil {
		return 0
	}
	return e.Status.GetCode()
}
