package ownerspread

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestScore(t *testing.T) {
	rs := f.Owner("rs-1", true)
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		onNode []*corev1.Pod
		want   int64
	}{
		{name: "no pods of the owner", pod: f.Pod("ns", "p", rs), onNode: []*corev1.Pod{f.Pod("ns", "a")}, want: 0},
		{name: "counts pods of the same controller", pod: f.Pod("ns", "p", rs),
			onNode: []*corev1.Pod{f.Pod("ns", "a", rs), f.Pod("ns", "b", rs), f.Pod("ns", "c", f.Owner("rs-2", true))}, want: 2},
		{name: "an owner that is not the controller does not count", pod: f.Pod("ns", "p", rs),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.Owner("rs-1", false))}, want: 0},
		{name: "pods being deleted do not count", pod: f.Pod("ns", "p", rs),
			onNode: []*corev1.Pod{f.Pod("ns", "a", rs, f.Terminating())}, want: 0},
		{name: "a pod without a controller scores 0", pod: f.Pod("ns", "p"),
			onNode: []*corev1.Pod{f.Pod("ns", "a"), f.Pod("ns", "b")}, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := New().Score(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(f.Node("n"), tc.onNode...))
			if !st.IsSuccess() || got != tc.want {
				t.Fatalf("Score = %d %v, want %d", got, st.AsError(), tc.want)
			}
		})
	}
}

func TestNormalizeFavoursNodesWithFewerReplicas(t *testing.T) {
	scores := []framework.NodeScore{{Name: "none", Score: 0}, {Name: "one", Score: 1}, {Name: "two", Score: 2}}
	New().NormalizeScore(framework.NewCycleState(), nil, scores)
	want := []int64{100, 50, 0}
	for i, s := range scores {
		if s.Score != want[i] {
			t.Errorf("normalized score of %s = %d, want %d", s.Name, s.Score, want[i])
		}
	}
}
