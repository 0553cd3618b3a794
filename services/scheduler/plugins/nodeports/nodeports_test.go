package nodeports

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pod      *corev1.Pod
		onNode   []*corev1.Pod
		conflict bool
	}{
		{name: "no host port", pod: f.Pod("ns", "p"), onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", ""))}},
		{name: "free port", pod: f.Pod("ns", "p", f.HostPort(80, "", "")), onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(81, "", ""))}},
		{name: "same port, every IP", pod: f.Pod("ns", "p", f.HostPort(80, "TCP", "")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", ""))}, conflict: true},
		{name: "same port, other protocol", pod: f.Pod("ns", "p", f.HostPort(53, "UDP", "")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(53, "TCP", ""))}},
		{name: "same port, different IPs", pod: f.Pod("ns", "p", f.HostPort(80, "", "10.0.0.1")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", "10.0.0.2"))}},
		{name: "same port, same IP", pod: f.Pod("ns", "p", f.HostPort(80, "", "10.0.0.1")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", "10.0.0.1"))}, conflict: true},
		{name: "wildcard asked, specific IP taken", pod: f.Pod("ns", "p", f.HostPort(80, "", "0.0.0.0")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", "10.0.0.1"))}, conflict: true},
		{name: "specific IP asked, wildcard taken", pod: f.Pod("ns", "p", f.HostPort(80, "", "10.0.0.1")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(80, "", ""))}, conflict: true},
		{name: "second of two ports taken", pod: f.Pod("ns", "p", f.HostPort(80, "", ""), f.HostPort(443, "", "")),
			onNode: []*corev1.Pod{f.Pod("ns", "a", f.HostPort(443, "", ""))}, conflict: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New().Filter(framework.NewCycleState(), framework.NewPodInfo(tc.pod), f.NodeInfo(f.Node("n"), tc.onNode...))
			if tc.conflict {
				if st.Code() != framework.Unschedulable || st.Message() != Reason {
					t.Fatalf("Filter = %v %q, want Unschedulable %q", st.Code(), st.Message(), Reason)
				}
			} else if !st.IsSuccess() {
				t.Fatalf("Filter = %v %q, want success", st.Code(), st.Message())
			}
		})
	}
}
