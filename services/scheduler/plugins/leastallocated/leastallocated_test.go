package leastallocated

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestScore(t *testing.T) {
	node := f.Node("n", f.Allocatable("4", "8Gi", 110))
	for _, tc := range []struct {
		name   string
		node   *corev1.Node
		pod    *corev1.Pod
		onNode []*corev1.Pod
		want   int64
	}{
		// cpu (4000-1000)/4000 = 75, memory (8-2)/8 = 75.
		{name: "empty node", node: node, pod: f.Pod("ns", "p", f.Requests("1", "2Gi")), want: 75},
		// cpu (4000-3000)/4000 = 25, memory (8-6)/8 = 25.
		{name: "pods already there count", node: node, pod: f.Pod("ns", "p", f.Requests("1", "2Gi")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.Requests("2", "4Gi"))}, want: 25},
		// cpu (4000-4000)/4000 = 0, memory an explicit 0: 100; the mean is 50.
		{name: "cpu and memory are averaged", node: node, pod: f.Pod("ns", "p", f.Requests("4", "0")), want: 50},
		// Defaults: 100m and 200Mi. cpu 3900/4000 = 97, memory (8192-200)/8192 = 97.
		{name: "a pod requesting nothing counts the defaults", node: node, pod: f.Pod("ns", "p"), want: 97},
		{name: "more than allocatable scores 0", node: node, pod: f.Pod("ns", "p", f.Requests("8", "16Gi")), want: 0},
		{name: "a node without cpu or memory scores 0", node: f.Node("n", f.Allocatable("0", "0", 110)), pod: f.Pod("ns", "p"), want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := New().Score(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(tc.node, tc.onNode...))
			if !st.IsSuccess() || got != tc.want {
				t.Fatalf("Score = %d %v, want %d", got, st.AsError(), tc.want)
			}
		})
	}
}

func TestEmptierNodeScoresHigher(t *testing.T) {
	pod := framework.NewPodInfo(f.Pod("ns", "p", f.Requests("500m", "1Gi")))
	busy, _ := New().Score(nil, pod, f.NodeInfo(f.Node("busy"), f.Pod("ns", "a", f.Requests("3", "8Gi"))))
	idle, _ := New().Score(nil, pod, f.NodeInfo(f.Node("idle")))
	if idle <= busy {
		t.Fatalf("idle node scores %d, busy node %d: want the idle one higher", idle, busy)
	}
}
