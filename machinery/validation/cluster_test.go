package validation

import (
	"testing"

	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestNamespace(t *testing.T) {
	tests := []struct {
		name string
		ns   *corev1.Namespace
		want []fe
	}{
		{"valid", &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"},
			Spec: &corev1.NamespaceSpec{Finalizers: []string{"kubernetes"}}, Status: &corev1.NamespaceStatus{Phase: "Active"}}, nil},
		{"name is a label", &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team.a"}}, []fe{{"metadata.name", Invalid}}},
		{"namespace forbidden", &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a", Namespace: "b"}}, []fe{{"metadata.namespace", Forbidden}}},
		{"bad finalizer and phase", &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"},
			Spec: &corev1.NamespaceSpec{Finalizers: []string{"cleanup"}}, Status: &corev1.NamespaceStatus{Phase: "Gone"}},
			[]fe{{"spec.finalizers[0]", Invalid}, {"status.phase", NotSupported}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.ns), tt.want...) })
	}
}

func TestNode(t *testing.T) {
	valid := func() *corev1.Node {
		return &corev1.Node{
			Metadata: &metav1.ObjectMeta{Name: "node-1.example.com", Labels: map[string]string{"kubernetes.io/hostname": "node-1"}},
			Spec: &corev1.NodeSpec{PodCidr: "10.244.1.0/24", PodCidrs: []string{"10.244.1.0/24"},
				Taints: []*corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: "NoSchedule"}}},
			Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "2", "memory": "4Gi", "pods": "110"}},
		}
	}
	tests := []struct {
		name   string
		mutate func(*corev1.Node)
		want   []fe
	}{
		{"valid", func(*corev1.Node) {}, nil},
		{"no spec", func(n *corev1.Node) { n.Spec = nil }, nil},
		{"bad pod CIDR", func(n *corev1.Node) { n.Spec.PodCidr, n.Spec.PodCidrs = "10.244.1.0", nil }, []fe{{"spec.podCIDR", Invalid}}},
		{"mismatched pod CIDRs", func(n *corev1.Node) { n.Spec.PodCidrs = []string{"10.244.2.0/24", "x"} },
			[]fe{{"spec.podCIDRs[0]", Invalid}, {"spec.podCIDRs[1]", Invalid}}},
		{"bad taints", func(n *corev1.Node) {
			n.Spec.Taints = []*corev1.Taint{{Key: "a", Effect: "Evict"}, {Key: "b"}, {Effect: "NoSchedule"}, {Key: "a", Effect: "Evict"}}
		}, []fe{{"spec.taints[0].effect", NotSupported}, {"spec.taints[1].effect", Required}, {"spec.taints[2].key", Required},
			{"spec.taints[3].effect", NotSupported}, {"spec.taints[3]", Duplicate}}},
		{"bad capacity", func(n *corev1.Node) { n.Status.Capacity["cpu"] = "two" }, []fe{{"status.capacity[cpu]", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := valid()
			tt.mutate(n)
			assertErrors(t, Validate(n), tt.want...)
		})
	}
}

func TestEvent(t *testing.T) {
	ref := &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}
	tests := []struct {
		name string
		ev   *corev1.Event
		want []fe
	}{
		{"valid", &corev1.Event{Metadata: objectMeta("web.17a"), InvolvedObject: ref, Reason: "Scheduled", Type: "Normal", Count: 1}, nil},
		{"no involved object", &corev1.Event{Metadata: objectMeta("e")}, []fe{{"involvedObject", Required}}},
		{"other namespace and bad type", &corev1.Event{Metadata: objectMeta("e"),
			InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "x"}, Type: "Error", Count: -1},
			[]fe{{"involvedObject.namespace", Invalid}, {"type", NotSupported}, {"count", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.ev), tt.want...) })
	}
}

func TestLease(t *testing.T) {
	tests := []struct {
		name  string
		lease *coordinationv1.Lease
		want  []fe
	}{
		{"valid", &coordinationv1.Lease{Metadata: objectMeta("node-1"),
			Spec: &coordinationv1.LeaseSpec{HolderIdentity: proto.String("node-1"), LeaseDurationSeconds: proto.Int32(40)}}, nil},
		{"empty spec", &coordinationv1.Lease{Metadata: objectMeta("node-1")}, nil},
		{"bad durations", &coordinationv1.Lease{Metadata: objectMeta("node-1"),
			Spec: &coordinationv1.LeaseSpec{LeaseDurationSeconds: proto.Int32(0), LeaseTransitions: proto.Int32(-1)}},
			[]fe{{"spec.leaseDurationSeconds", Invalid}, {"spec.leaseTransitions", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.lease), tt.want...) })
	}
}
