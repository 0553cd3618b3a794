package integration

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestNodeRestriction: a kubelet may update its own Node, but not its
// taints, pod CIDR, unschedulable flag or node-role / node-restriction
// labels, over gRPC and REST; the admin may.
func TestNodeRestriction(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	admin := s.cs
	if _, err := admin.Nodes().Create(ctx(t), &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"node-role.kubernetes.io/worker": ""}},
		Spec:     &corev1.NodeSpec{PodCidr: "10.244.1.0/24", Taints: []*corev1.Taint{{Key: "dedicated", Value: "db", Effect: "NoSchedule"}}},
	}); err != nil {
		t.Fatal(err)
	}
	n1creds := s.issue(t, s.ca, "system:node:n1", "system:nodes")
	n1 := s.as(t, n1creds)
	get := func(t *testing.T) *corev1.Node {
		t.Helper()
		n, err := n1.Nodes().Get(ctx(t), &metav1.GetOptions{Name: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("gRPC: an ordinary label is allowed", func(t *testing.T) {
		n := get(t)
		n.Metadata.Labels["disk"] = "ssd"
		if _, err := n1.Nodes().Update(ctx(t), n); err != nil {
			t.Fatalf("n1 labelling itself: %v", err)
		}
	})
	for _, tc := range []struct {
		name, field string
		change      func(n *corev1.Node)
	}{
		{"taints", "spec.taints", func(n *corev1.Node) { n.Spec.Taints = nil }},
		{"pod CIDR", "spec.podCIDR", func(n *corev1.Node) { n.Spec.PodCidr = "10.244.9.0/24" }},
		{"unschedulable", "spec.unschedulable", func(n *corev1.Node) { n.Spec.Unschedulable = true }},
		{"node-role label", "metadata.labels[node-role.kubernetes.io/worker]", func(n *corev1.Node) { delete(n.Metadata.Labels, "node-role.kubernetes.io/worker") }},
	} {
		t.Run("gRPC: "+tc.name+" refused", func(t *testing.T) {
			before := get(t)
			n := proto.Clone(before).(*corev1.Node)
			tc.change(n)
			_, err := n1.Nodes().Update(ctx(t), n)
			wantGRPC(t, err, codes.PermissionDenied, `nodes "n1" is forbidden: node "n1" may not change `+tc.field)
			if after := get(t); !proto.Equal(after, before) {
				t.Fatalf("the refused update changed the node: %v", after)
			}
		})
	}
	t.Run("REST merge patch of unschedulable refused", func(t *testing.T) {
		client := s.httpClient(t, n1creds)
		req, err := http.NewRequestWithContext(ctx(t), "PATCH", s.base+"/api/v1/nodes/n1", bytes.NewReader([]byte(`{"spec":{"unschedulable":true}}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/merge-patch+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `may not change spec.unschedulable`) {
			t.Fatalf("PATCH as n1: %d %s, want 403 naming spec.unschedulable", resp.StatusCode, body)
		}
	})
	t.Run("create: taints allowed, node-role label refused", func(t *testing.T) {
		n3 := s.as(t, s.issue(t, s.ca, "system:node:n3", "system:nodes"))
		_, err := n3.Nodes().Create(ctx(t), &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n3", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}})
		wantGRPC(t, err, codes.PermissionDenied, `may not change metadata.labels[node-role.kubernetes.io/control-plane]`)
		if _, err := n3.Nodes().Create(ctx(t), &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n3"},
			Spec: &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: "new", Effect: "NoSchedule"}}}}); err != nil {
			t.Fatalf("n3 registering with a taint: %v", err)
		}
	})
	t.Run("the admin may change taints", func(t *testing.T) {
		n, err := admin.Nodes().Get(ctx(t), &metav1.GetOptions{Name: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		n.Spec.Taints, n.Spec.Unschedulable = nil, true
		if _, err := admin.Nodes().Update(ctx(t), n); err != nil {
			t.Fatalf("admin: %v", err)
		}
	})
}
