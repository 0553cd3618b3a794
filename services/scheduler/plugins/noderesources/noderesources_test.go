package noderesources

import (
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestFilter(t *testing.T) {
	node := f.Node("n", f.Allocatable("2", "4Gi", 3), f.Resource("example.com/gpu", "1"))
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		onNode  []*corev1.Pod
		reasons []string
	}{
		{name: "fits an empty node", pod: f.Pod("ns", "p", f.Requests("1", "1Gi"))},
		{name: "requests nothing", pod: f.Pod("ns", "p")},
		{name: "exactly what is free", pod: f.Pod("ns", "p", f.Requests("1500m", "3Gi")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.Requests("500m", "1Gi"))}},
		{name: "more cpu than free", pod: f.Pod("ns", "p", f.Requests("1600m", "1Gi")),
			onNode:  []*corev1.Pod{f.Pod("ns", "a", f.Requests("500m", "1Gi"))},
			reasons: []string{"Insufficient cpu"}},
		{name: "more cpu than the node has", pod: f.Pod("ns", "p", f.Requests("3", "")),
			reasons: []string{"Insufficient cpu"}},
		{name: "cpu and memory short", pod: f.Pod("ns", "p", f.Requests("2", "4Gi")),
			onNode:  []*corev1.Pod{f.Pod("ns", "a", f.Requests("100m", "1Mi"))},
			reasons: []string{"Insufficient cpu", "Insufficient memory"}},
		{name: "containers add up", pod: f.Pod("ns", "p", f.Requests("1", "1Gi"), f.Container("1500m", "1Gi")),
			reasons: []string{"Insufficient cpu"}},
		{name: "an init container's request above the sum counts", pod: f.Pod("ns", "p", f.Requests("1", "1Gi"), f.InitContainer("3", "1Gi")),
			reasons: []string{"Insufficient cpu"}},
		{name: "init containers below the sum do not add", pod: f.Pod("ns", "p", f.Requests("2", "1Gi"), f.InitContainer("1", "1Gi"), f.InitContainer("2", "1Gi"))},
		{name: "node full of pods", pod: f.Pod("ns", "p"),
			onNode:  []*corev1.Pod{f.Pod("ns", "a"), f.Pod("ns", "b"), f.Pod("ns", "c")},
			reasons: []string{ReasonTooManyPods}},
		{name: "extended resource fits", pod: f.Pod("ns", "p", f.Request("example.com/gpu", "1"))},
		{name: "extended resource taken", pod: f.Pod("ns", "p", f.Request("example.com/gpu", "1")),
			onNode:  []*corev1.Pod{f.Pod("ns", "a", f.Request("example.com/gpu", "1"))},
			reasons: []string{"Insufficient example.com/gpu"}},
		{name: "resource the node lacks", pod: f.Pod("ns", "p", f.Request("ephemeral-storage", "1Gi")),
			reasons: []string{"Insufficient ephemeral-storage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(node, tc.onNode...))
			if len(tc.reasons) == 0 {
				if !st.IsSuccess() {
					t.Fatalf("Filter = %v %q, want success", st.Code(), st.Message())
				}
				return
			}
			if st.Code() != framework.Unschedulable || !slices.Equal(st.Reasons(), tc.reasons) {
				t.Fatalf("Filter = %v %q, want Unschedulable %q", st.Code(), st.Reasons(), tc.reasons)
			}
		})
	}
}

func TestNodeWithoutPodsAllocatableTakesNoPods(t *testing.T) {
	node := f.Node("n")
	delete(node.Status.Allocatable, "pods")
	st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(f.Pod("ns", "p")), f.NodeInfo(node))
	if st.Code() != framework.Unschedulable || st.Message() != ReasonTooManyPods {
		t.Fatalf("Filter = %v %q, want Unschedulable %q (as Kubernetes: no pods allocatable)", st.Code(), st.Message(), ReasonTooManyPods)
	}
}
