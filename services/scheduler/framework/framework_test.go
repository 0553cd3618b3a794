package framework_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	if !nilStatus.IsSuccess() || nilStatus.Code() != framework.Success || nilStatus.AsError() != nil {
		t.Fatal("a nil status is not Success")
	}
	st := framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory")
	if !st.IsRejected() || st.IsSuccess() || st.Message() != "Insufficient cpu, Insufficient memory" {
		t.Fatalf("status = %v %q", st.Code(), st.Message())
	}
	if err := st.AsError(); err == nil || err.Error() != st.Message() {
		t.Fatalf("AsError = %v", err)
	}
	boom := errors.New("boom")
	est := framework.AsStatus(boom)
	if est.Code() != framework.Error || est.IsRejected() || !errors.Is(est.AsError(), boom) {
		t.Fatalf("AsStatus = %v %v", est.Code(), est.AsError())
	}
	if framework.AsStatus(nil) != nil {
		t.Fatal("AsStatus(nil) is not nil")
	}
	if framework.UnschedulableAndUnresolvable.String() != "UnschedulableAndUnresolvable" || framework.Code(9).String() != "Code(9)" {
		t.Fatal("Code.String")
	}
}

func TestParseResourceList(t *testing.T) {
	r := framework.ParseResourceList(map[string]string{"cpu": "1500m", "memory": "1Gi", "pods": "110", "example.com/gpu": "2", "bad": "x"})
	if r.MilliCPU != 1500 || r.Memory != 1<<30 || r.AllowedPodNumber != 110 || r.Scalar["example.com/gpu"] != 2 || r.Scalar["bad"] != 0 {
		t.Fatalf("ParseResourceList = %+v", r)
	}
}

func TestPodInfo(t *testing.T) {
	pod := f.Pod("ns", "p", f.Requests("500m", ""), f.Container("1", "1Gi"), f.InitContainer("2", "512Mi"),
		f.HostPort(80, "", ""), f.Owner("other", false), f.Owner("rs", true))
	pi := framework.NewPodInfo(pod)
	if pi.Key != "ns/p" || pi.ControllerUID != "rs" {
		t.Fatalf("Key %q, ControllerUID %q", pi.Key, pi.ControllerUID)
	}
	// cpu: max(0.5+1, 2) = 2; memory: max(0+1Gi, 512Mi) = 1Gi.
	if pi.Requests.MilliCPU != 2000 || pi.Requests.Memory != 1<<30 {
		t.Fatalf("Requests = %+v, want 2000m and 1Gi", pi.Requests)
	}
	// The first container requests no memory: 200Mi counted for scoring.
	if pi.NonZeroRequests.MilliCPU != 2000 || pi.NonZeroRequests.Memory != 1<<30+framework.DefaultMemoryRequest {
		t.Fatalf("NonZeroRequests = %+v", pi.NonZeroRequests)
	}
	if want := []framework.HostPort{{IP: "0.0.0.0", Protocol: "TCP", Port: 80}}; !slices.Equal(pi.HostPorts, want) {
		t.Fatalf("HostPorts = %v, want %v", pi.HostPorts, want)
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	a := framework.NewPodInfo(f.Pod("ns", "a", f.Requests("1", "1Gi"), f.HostPort(80, "", "")))
	b := framework.NewPodInfo(f.Pod("ns", "b", f.Requests("500m", "")))
	ni := framework.NewNodeInfo(f.Node("n"), a)
	clone := ni.Clone()
	ni.AddPod(b)
	if ni.Requested.MilliCPU != 1500 || len(ni.Pods) != 2 {
		t.Fatalf("after AddPod: %d pods, %dm", len(ni.Pods), ni.Requested.MilliCPU)
	}
	if clone.Requested.MilliCPU != 1000 || len(clone.Pods) != 1 {
		t.Fatalf("the clone changed with the original: %d pods, %dm", len(clone.Pods), clone.Requested.MilliCPU)
	}
	if !ni.RemovePod("ns/a") || ni.RemovePod("ns/a") {
		t.Fatal("RemovePod of a present pod, then of an absent one")
	}
	if ni.Requested.MilliCPU != 500 || ni.Requested.Memory != 0 || ni.UsedPorts.Len() != 0 {
		t.Fatalf("after RemovePod: %+v, %d ports", ni.Requested, ni.UsedPorts.Len())
	}
	if !clone.UsedPorts.Conflicts(a.HostPorts[0]) {
		t.Fatal("the clone lost its used port when the original removed it")
	}
	if ni.Allocatable.MilliCPU != 4000 || ni.Name() != "n" {
		t.Fatalf("Allocatable %+v, Name %q", ni.Allocatable, ni.Name())
	}
}

func TestHostPortSetCountsUses(t *testing.T) {
	s := framework.HostPortSet{}
	p := framework.NewHostPort("", "", 8080)
	s.Add(p)
	s.Add(p)
	s.Remove(p)
	if !s.Conflicts(p) {
		t.Fatal("a port bound twice and released once is free")
	}
	s.Remove(p)
	if s.Conflicts(p) || s.Len() != 0 {
		t.Fatal("a port released by both users is still in use")
	}
}

func TestSnapshotGet(t *testing.T) {
	a, b := f.NodeInfo(f.Node("a")), f.NodeInfo(f.Node("b"))
	s := framework.NewSnapshot(a, b)
	if s.NumNodes() != 2 || s.Get("b") != b || s.Get("c") != nil || s.Nodes()[0] != a {
		t.Fatal("snapshot lookup")
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []int64
		reverse bool
		want    []int64
	}{
		{"scaled to the highest", []int64{0, 5, 10}, false, []int64{0, 50, 100}},
		{"reversed", []int64{0, 5, 10}, true, []int64{100, 50, 0}},
		{"all zero", []int64{0, 0}, false, []int64{0, 0}},
		{"all zero reversed", []int64{0, 0}, true, []int64{100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scores := make([]framework.NodeScore, len(tc.in))
			for i, v := range tc.in {
				scores[i].Score = v
			}
			framework.DefaultNormalizeScore(100, tc.reverse, scores)
			for i, s := range scores {
				if s.Score != tc.want[i] {
					t.Fatalf("scores = %v, want %v", scores, tc.want)
				}
			}
		})
	}
}
