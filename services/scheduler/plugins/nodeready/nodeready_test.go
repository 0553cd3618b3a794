package nodeready

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
		code   framework.Code
		reason string
	}{
		{"ready node", f.Node("n"), f.Pod("ns", "p"), framework.Success, ""},
		{"Ready False", f.Node("n", f.Ready("False")), f.Pod("ns", "p"), framework.UnschedulableAndUnresolvable, ReasonNotReady},
		{"Ready Unknown", f.Node("n", f.Ready("Unknown")), f.Pod("ns", "p"), framework.UnschedulableAndUnresolvable, ReasonNotReady},
		{"no Ready condition", f.Node("n", f.Ready("")), f.Pod("ns", "p"), framework.UnschedulableAndUnresolvable, ReasonNotReady},
		{"not ready, tolerated", f.Node("n", f.Ready("False")),
			f.Pod("ns", "p", f.Toleration(TaintNotReady, "Exists", "", "NoSchedule")), framework.Success, ""},
		{"cordoned", f.Node("n", f.Unschedulable()), f.Pod("ns", "p"), framework.UnschedulableAndUnresolvable, ReasonUnschedulable},
		{"cordoned, tolerated", f.Node("n", f.Unschedulable()),
			f.Pod("ns", "p", f.Toleration(TaintUnschedulable, "Exists", "", "NoSchedule")), framework.Success, ""},
		{"cordoned, tolerated by a blanket Exists", f.Node("n", f.Unschedulable()),
			f.Pod("ns", "p", f.Toleration("", "Exists", "", "")), framework.Success, ""},
		{"cordoned, toleration of another effect", f.Node("n", f.Unschedulable()),
			f.Pod("ns", "p", f.Toleration(TaintUnschedulable, "Exists", "", "NoExecute")), framework.UnschedulableAndUnresolvable, ReasonUnschedulable},
		{"not ready and cordoned reports not ready", f.Node("n", f.Ready("False"), f.Unschedulable()),
			f.Pod("ns", "p"), framework.UnschedulableAndUnresolvable, ReasonNotReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(tc.node))
			if st.Code() != tc.code || st.Message() != tc.reason {
				t.Fatalf("Filter = %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.reason)
			}
		})
	}
}
