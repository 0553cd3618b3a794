package replicaset

import (
	"testing"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestDeletionOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name, node, phase string, ready bool, age int) *corev1.Pod {
		p := &corev1.Pod{
			Metadata: &metav1.ObjectMeta{Name: name, CreationTimestamp: timestamppb.New(t0.Add(-time.Duration(age) * time.Minute))},
			Spec:     &corev1.PodSpec{NodeName: node},
			Status:   &corev1.PodStatus{Phase: phase},
		}
		if ready {
			p.Status.Conditions = []*corev1.PodCondition{{Type: "Ready", Status: "True", LastTransitionTime: timestamppb.New(t0)}}
		}
		return p
	}
	pods := []*corev1.Pod{
		pod("ready-old", "n", "Running", true, 10),
		pod("ready-new", "n", "Running", true, 1),
		pod("unscheduled", "", "Pending", false, 5),
		pod("pending", "n", "Pending", false, 5),
		pod("running-not-ready", "n", "Running", false, 5),
	}
	want := []string{"unscheduled", "pending", "running-not-ready", "ready-new", "ready-old"}
	for i, p := range deletionOrder(pods) {
		if p.GetMetadata().GetName() != want[i] {
			t.Fatalf("deletion order position %d = %s, want %s (order %v)", i, p.GetMetadata().GetName(), want[i], want)
		}
	}
}

func TestCount(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	readyAt := func(ago time.Duration) *corev1.Pod {
		return &corev1.Pod{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
			Status: &corev1.PodStatus{Conditions: []*corev1.PodCondition{{Type: "Ready", Status: "True", LastTransitionTime: timestamppb.New(now.Add(-ago))}}}}
	}
	rs := rsWith(10)
	st := count(rs, []*corev1.Pod{readyAt(time.Minute), readyAt(2 * time.Second), {Metadata: &metav1.ObjectMeta{}}}, now)
	if st.GetReplicas() != 3 || st.GetReadyReplicas() != 2 || st.GetAvailableReplicas() != 1 || st.GetFullyLabeledReplicas() != 2 || st.wait != 8*time.Second {
		t.Fatalf("count = %v, wait %v; want 3 replicas, 2 ready, 1 available (minReadySeconds 10), 2 fully labelled, requeue in 8s", st.ReplicaSetStatus, st.wait)
	}
}

func rsWith(minReady int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Generation: 2}, Spec: &appsv1.ReplicaSetSpec{MinReadySeconds: minReady,
		Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a"}}}}}
}
