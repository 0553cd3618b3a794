package nodeaffinity

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestFilter(t *testing.T) {
	node := f.Node("node-a", f.Labels("zone", "z1", "disk", "ssd", "cores", "8"))
	fields := func(op string, values ...string) *corev1.NodeSelectorTerm {
		return &corev1.NodeSelectorTerm{MatchFields: []*corev1.NodeSelectorRequirement{f.Expr("metadata.name", op, values...)}}
	}
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		match bool
	}{
		{"no constraints", f.Pod("ns", "p"), true},
		{"nodeSelector matches", f.Pod("ns", "p", f.NodeSelector("zone", "z1", "disk", "ssd")), true},
		{"nodeSelector value differs", f.Pod("ns", "p", f.NodeSelector("zone", "z2")), false},
		{"nodeSelector label missing", f.Pod("ns", "p", f.NodeSelector("gpu", "yes")), false},
		{"In matches", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "In", "z0", "z1")))), true},
		{"In misses", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "In", "z2")))), false},
		{"In on a missing label", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("gpu", "In", "yes")))), false},
		{"NotIn matches", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "NotIn", "z2")))), true},
		{"NotIn misses", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "NotIn", "z1")))), false},
		{"NotIn on a missing label", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("gpu", "NotIn", "yes")))), true},
		{"Exists", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("disk", "Exists")))), true},
		{"Exists on a missing label", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("gpu", "Exists")))), false},
		{"DoesNotExist", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("gpu", "DoesNotExist")))), true},
		{"DoesNotExist on a present label", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("disk", "DoesNotExist")))), false},
		{"Gt matches", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("cores", "Gt", "4")))), true},
		{"Gt misses", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("cores", "Gt", "8")))), false},
		{"Lt matches", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("cores", "Lt", "16")))), true},
		{"Lt misses", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("cores", "Lt", "8")))), false},
		{"Gt on a label that is no integer", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "Gt", "1")))), false},
		{"Gt with a value that is no integer", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("cores", "Gt", "x")))), false},
		{"unknown operator", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "Near", "z1")))), false},
		{"expressions of a term all hold", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "In", "z1"), f.Expr("disk", "In", "ssd")))), true},
		{"one expression of a term fails", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "In", "z1"), f.Expr("disk", "In", "hdd")))), false},
		{"terms are ORed", f.Pod("ns", "p", f.RequiredTerms(f.Term(f.Expr("zone", "In", "z9")), f.Term(f.Expr("disk", "In", "ssd")))), true},
		{"an empty term matches nothing", f.Pod("ns", "p", f.RequiredTerms(f.Term())), false},
		{"no terms match nothing", f.Pod("ns", "p", f.RequiredTerms()), false},
		{"matchFields name In", f.Pod("ns", "p", f.RequiredTerms(fields("In", "node-a"))), true},
		{"matchFields name In, other node", f.Pod("ns", "p", f.RequiredTerms(fields("In", "node-b"))), false},
		{"matchFields name NotIn", f.Pod("ns", "p", f.RequiredTerms(fields("NotIn", "node-b"))), true},
		{"matchFields unsupported field", f.Pod("ns", "p", f.RequiredTerms(&corev1.NodeSelectorTerm{
			MatchFields: []*corev1.NodeSelectorRequirement{f.Expr("metadata.uid", "In", "x")}})), false},
		{"selector and affinity both hold", f.Pod("ns", "p", f.NodeSelector("zone", "z1"), f.RequiredTerms(f.Term(f.Expr("disk", "Exists")))), true},
		{"selector holds, affinity fails", f.Pod("ns", "p", f.NodeSelector("zone", "z1"), f.RequiredTerms(f.Term(f.Expr("gpu", "Exists")))), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(node))
			if tc.match {
				if !st.IsSuccess() {
					t.Fatalf("Filter = %v %q, want success", st.Code(), st.Message())
				}
				return
			}
			if st.Code() != framework.UnschedulableAndUnresolvable || st.Message() != Reason {
				t.Fatalf("Filter = %v %q, want UnschedulableAndUnresolvable %q", st.Code(), st.Message(), Reason)
			}
		})
	}
}

func TestScorePreferredTerms(t *testing.T) {
	pod := framework.NewPodInfo(f.Pod("ns", "p",
		f.Preferred(10, f.Term(f.Expr("disk", "In", "ssd"))),
		f.Preferred(30, f.Term(f.Expr("zone", "In", "z1")))))
	nodes := []*framework.NodeInfo{
		f.NodeInfo(f.Node("both", f.Labels("disk", "ssd", "zone", "z1"))),
		f.NodeInfo(f.Node("zone", f.Labels("zone", "z1"))),
		f.NodeInfo(f.Node("disk", f.Labels("disk", "ssd"))),
		f.NodeInfo(f.Node("none")),
	}
	pl := New()
	scores := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		s, st := pl.Score(framework.NewCycleState(), pod, n)
		if !st.IsSuccess() {
			t.Fatal(st.AsError())
		}
		scores[i] = framework.NodeScore{Name: n.Name(), Score: s}
	}
	if raw := [4]int64{scores[0].Score, scores[1].Score, scores[2].Score, scores[3].Score}; raw != [4]int64{40, 30, 10, 0} {
		t.Fatalf("raw scores = %v, want the matched weights [40 30 10 0]", raw)
	}
	pl.NormalizeScore(framework.NewCycleState(), pod, scores)
	want := []int64{100, 75, 25, 0}
	for i, s := range scores {
		if s.Score != want[i] {
			t.Errorf("normalized score of %s = %d, want %d", s.Name, s.Score, want[i])
		}
	}
}
