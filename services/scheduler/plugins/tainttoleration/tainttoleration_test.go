package tainttoleration

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		node   *corev1.Node
		pod    *corev1.Pod
		reason string // empty: fits
	}{
		{"no taints", f.Node("n"), f.Pod("ns", "p"), ""},
		{"NoSchedule not tolerated", f.Node("n", f.Taint("dedicated", "gpu", EffectNoSchedule)), f.Pod("ns", "p"),
			"node(s) had untolerated taint {dedicated: gpu}"},
		{"NoExecute not tolerated", f.Node("n", f.Taint("evict", "", EffectNoExecute)), f.Pod("ns", "p"),
			"node(s) had untolerated taint {evict: }"},
		{"NoSchedule tolerated", f.Node("n", f.Taint("dedicated", "gpu", EffectNoSchedule)),
			f.Pod("ns", "p", f.Toleration("dedicated", "Equal", "gpu", EffectNoSchedule)), ""},
		{"PreferNoSchedule does not filter", f.Node("n", f.Taint("soft", "", EffectPreferNoSchedule)), f.Pod("ns", "p"), ""},
		{"second taint not tolerated", f.Node("n", f.Taint("a", "1", EffectNoSchedule), f.Taint("b", "2", EffectNoSchedule)),
			f.Pod("ns", "p", f.Toleration("a", "Exists", "", "")), "node(s) had untolerated taint {b: 2}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(tc.node))
			if tc.reason == "" {
				if !st.IsSuccess() {
					t.Fatalf("Filter = %v %q, want success", st.Code(), st.Message())
				}
				return
			}
			if st.Code() != framework.UnschedulableAndUnresolvable || st.Message() != tc.reason {
				t.Fatalf("Filter = %v %q, want UnschedulableAndUnresolvable %q", st.Code(), st.Message(), tc.reason)
			}
		})
	}
}

func TestScorePreferNoSchedule(t *testing.T) {
	pod := framework.NewPodInfo(f.Pod("ns", "p", f.Toleration("tolerated", "Exists", "", EffectPreferNoSchedule)))
	nodes := []*framework.NodeInfo{
		f.NodeInfo(f.Node("clean")),
		f.NodeInfo(f.Node("one", f.Taint("soft", "", EffectPreferNoSchedule))),
		f.NodeInfo(f.Node("two", f.Taint("soft", "", EffectPreferNoSchedule), f.Taint("softer", "", EffectPreferNoSchedule))),
		f.NodeInfo(f.Node("tolerated", f.Taint("tolerated", "", EffectPreferNoSchedule))),
		f.NodeInfo(f.Node("hard", f.Taint("hard", "", EffectNoSchedule))),
	}
	pl := New()
	scores := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		s, _ := pl.Score(framework.NewCycleState(), pod, n)
		scores[i] = framework.NodeScore{Name: n.Name(), Score: s}
	}
	pl.NormalizeScore(framework.NewCycleState(), pod, scores)
	want := map[string]int64{"clean": 100, "one": 50, "two": 0, "tolerated": 100, "hard": 100}
	for _, s := range scores {
		if s.Score != want[s.Name] {
			t.Errorf("score of %s = %d, want %d", s.Name, s.Score, want[s.Name])
		}
	}
}
