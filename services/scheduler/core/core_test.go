package core_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/core"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/leastallocated"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeaffinity"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeports"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeready"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/noderesources"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/ownerspread"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/tainttoleration"
)

// newScheduler runs the default plugins, in the default order and weights.
func newScheduler(opts core.Options) *core.Scheduler {
	opts.Filters = []framework.FilterPlugin{nodeready.New(), tainttoleration.New(), nodeaffinity.New(), nodeports.New(), noderesources.New()}
	opts.Scores = []core.WeightedScore{
		{Plugin: tainttoleration.New(), Weight: 3},
		{Plugin: nodeaffinity.New(), Weight: 2},
		{Plugin: ownerspread.New(), Weight: 2},
		{Plugin: leastallocated.New(), Weight: 1},
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(1, 2))
	}
	return core.New(opts)
}

func snapshot(nodes ...*framework.NodeInfo) *framework.Snapshot {
	return framework.NewSnapshot(nodes...)
}

func TestScheduleFits(t *testing.T) {
	snap := snapshot(
		f.NodeInfo(f.Node("small", f.Allocatable("1", "2Gi", 110))),
		f.NodeInfo(f.Node("big", f.Allocatable("8", "32Gi", 110))),
	)
	d, err := newScheduler(core.Options{}).Schedule(snap, f.Pod("ns", "p", f.Requests("2", "1Gi")))
	if err != nil {
		t.Fatal(err)
	}
	if d.Node != "big" || d.FeasibleNodes != 1 || d.EvaluatedNodes != 2 {
		t.Fatalf("Decision = %+v, want big, 1 feasible of 2 evaluated", d)
	}
}

func TestUnschedulableMessage(t *testing.T) {
	snap := snapshot(
		f.NodeInfo(f.Node("a", f.Allocatable("1", "8Gi", 110), f.Labels("disk", "ssd"))),
		f.NodeInfo(f.Node("b", f.Allocatable("8", "8Gi", 110))),
		f.NodeInfo(f.Node("c", f.Allocatable("8", "8Gi", 110))),
	)
	pod := f.Pod("ns", "p", f.Requests("2", "1Gi"), f.NodeSelector("disk", "ssd"))
	_, err := newScheduler(core.Options{}).Schedule(snap, pod)
	var fe *core.FitError
	if !errors.As(err, &fe) || !core.IsFitError(err) {
		t.Fatalf("Schedule = %v, want a FitError", err)
	}
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
	if err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err.Error(), want)
	}
	if fe.Pod != "ns/p" || strings.Join(fe.Plugins, ",") != "NodeAffinity,NodeResourcesFit" {
		t.Fatalf("FitError pod %q plugins %v", fe.Pod, fe.Plugins)
	}
}

func TestUnschedulableMessageCountsEveryReasonOfANode(t *testing.T) {
	snap := snapshot(
		f.NodeInfo(f.Node("a", f.Allocatable("1", "1Gi", 110))),
		f.NodeInfo(f.Node("b", f.Taint("dedicated", "db", "NoSchedule"))),
		f.NodeInfo(f.Node("c", f.Ready("False"))),
	)
	_, err := newScheduler(core.Options{}).Schedule(snap, f.Pod("ns", "p", f.Requests("2", "2Gi")))
	want := "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, " +
		"1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were not ready."
	if err == nil || err.Error() != want {
		t.Fatalf("Schedule = %v\nwant %q", err, want)
	}
}

func TestNoNodes(t *testing.T) {
	_, err := newScheduler(core.Options{}).Schedule(snapshot(), f.Pod("ns", "p"))
	if !core.IsFitError(err) || err.Error() != "no nodes available to schedule pods" {
		t.Fatalf("Schedule on no nodes = %v", err)
	}
}

func TestScoringPicksTheBestNode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []*framework.NodeInfo
		pod   *corev1.Pod
		want  string
	}{
		{"least allocated", []*framework.NodeInfo{
			f.NodeInfo(f.Node("busy"), f.Pod("ns", "x", f.Requests("3", "12Gi"), f.OnNode("busy"))),
			f.NodeInfo(f.Node("idle")),
		}, f.Pod("ns", "p", f.Requests("500m", "1Gi")), "idle"},
		{"preferred affinity outweighs free resources", []*framework.NodeInfo{
			f.NodeInfo(f.Node("ssd", f.Labels("disk", "ssd")), f.Pod("ns", "x", f.Requests("3", "12Gi"), f.OnNode("ssd"))),
			f.NodeInfo(f.Node("hdd")),
		}, f.Pod("ns", "p", f.Preferred(50, f.Term(f.Expr("disk", "In", "ssd")))), "ssd"},
		{"untolerated PreferNoSchedule is avoided", []*framework.NodeInfo{
			f.NodeInfo(f.Node("soft", f.Taint("soft", "", "PreferNoSchedule"))),
			f.NodeInfo(f.Node("plain"), f.Pod("ns", "x", f.Requests("2", "8Gi"), f.OnNode("plain"))),
		}, f.Pod("ns", "p"), "plain"},
		{"replicas of one owner spread", []*framework.NodeInfo{
			f.NodeInfo(f.Node("big", f.Allocatable("64", "256Gi", 110)), f.Pod("ns", "r1", f.Owner("rs", true), f.OnNode("big"))),
			f.NodeInfo(f.Node("small", f.Allocatable("4", "16Gi", 110))),
		}, f.Pod("ns", "p", f.Owner("rs", true)), "small"},
		{"without an owner the bigger node wins", []*framework.NodeInfo{
			f.NodeInfo(f.Node("big", f.Allocatable("64", "256Gi", 110)), f.Pod("ns", "r1", f.Owner("rs", true), f.OnNode("big"))),
			f.NodeInfo(f.Node("small", f.Allocatable("4", "16Gi", 110))),
		}, f.Pod("ns", "p"), "big"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newScheduler(core.Options{}).Schedule(snapshot(tc.nodes...), tc.pod)
			if err != nil || d.Node != tc.want {
				t.Fatalf("Schedule = %+v, %v; want node %s", d, err, tc.want)
			}
		})
	}
}

func TestTiesAreBrokenAtRandom(t *testing.T) {
	s := newScheduler(core.Options{Rand: rand.New(rand.NewPCG(7, 7))})
	snap := snapshot(f.NodeInfo(f.Node("a")), f.NodeInfo(f.Node("b")), f.NodeInfo(f.Node("c")))
	seen := map[string]int{}
	for range 300 {
		d, err := s.Schedule(snap, f.Pod("ns", "p"))
		if err != nil {
			t.Fatal(err)
		}
		seen[d.Node]++
	}
	for _, n := range []string{"a", "b", "c"} {
		if seen[n] < 50 {
			t.Fatalf("node %s chosen %d times of 300 among three equal nodes: %v", n, seen[n], seen)
		}
	}
}

// manyNodes returns n identical nodes, the ones for which fits(i) is true
// labelled fit=yes.
func manyNodes(n int, fits func(i int) bool) *framework.Snapshot {
	nodes := make([]*framework.NodeInfo, n)
	for i := range nodes {
		var opts []f.NodeOption
		if fits(i) {
			opts = append(opts, f.Labels("fit", "yes"))
		}
		nodes[i] = f.NodeInfo(f.Node(fmt.Sprintf("node-%05d", i), opts...))
	}
	return snapshot(nodes...)
}

func TestManyNodesStopsAtEnoughFeasible(t *testing.T) {
	for _, tc := range []struct {
		nodes, pct, want int
	}{
		{nodes: 50, want: 50},               // small clusters: every node
		{nodes: 1000, want: 420},            // 50% - 1000/125 = 42%
		{nodes: 5000, want: 500},            // 50% - 40 = 10%
		{nodes: 10000, want: 500},           // floor of 5%
		{nodes: 1000, pct: 100, want: 1000}, // configured: all
		{nodes: 1000, pct: 1, want: 100},    // configured, at least 100
		{nodes: 3000, pct: 20, want: 600},   // configured
	} {
		t.Run(fmt.Sprintf("%d nodes %d%%", tc.nodes, tc.pct), func(t *testing.T) {
			s := newScheduler(core.Options{Parallelism: 4, PercentageOfNodesToScore: int32(tc.pct)})
			d, err := s.Schedule(manyNodes(tc.nodes, func(int) bool { return true }), f.Pod("ns", "p"))
			if err != nil {
				t.Fatal(err)
			}
			if d.FeasibleNodes != tc.want {
				t.Fatalf("feasible nodes = %d, want %d", d.FeasibleNodes, tc.want)
			}
			if d.EvaluatedNodes < tc.want || d.EvaluatedNodes > tc.nodes {
				t.Fatalf("evaluated nodes = %d, want within [%d, %d]", d.EvaluatedNodes, tc.want, tc.nodes)
			}
		})
	}
}

func TestManyNodesFindsTheFewThatFit(t *testing.T) {
	fits := func(i int) bool { return i%1000 == 999 } // 5 of 5000
	s := newScheduler(core.Options{Parallelism: 8})
	snap := manyNodes(5000, fits)
	pod := f.Pod("ns", "p", f.NodeSelector("fit", "yes"))
	chosen := map[string]bool{}
	for range 50 {
		d, err := s.Schedule(snap, pod)
		if err != nil {
			t.Fatal(err)
		}
		if d.FeasibleNodes != 5 || d.EvaluatedNodes != 5000 {
			t.Fatalf("Decision = %+v, want 5 feasible of 5000 evaluated", d)
		}
		chosen[d.Node] = true
	}
	for n := range chosen {
		var i int
		if _, err := fmt.Sscanf(n, "node-%05d", &i); err != nil || !fits(i) {
			t.Fatalf("chose %s, which does not fit", n)
		}
	}

	_, err := s.Schedule(manyNodes(5000, func(int) bool { return false }), pod)
	want := "0/5000 nodes are available: 5000 node(s) didn't match Pod's node affinity/selector."
	if err == nil || err.Error() != want {
		t.Fatalf("Schedule with no fitting node = %v, want %q", err, want)
	}
}

func TestSearchStartRotates(t *testing.T) {
	// With every node feasible and only 100 wanted of 1000, successive
	// searches must look at different nodes rather than the first 100 again.
	s := newScheduler(core.Options{Parallelism: 1, PercentageOfNodesToScore: 10})
	snap := manyNodes(1000, func(int) bool { return true })
	seen := map[string]bool{}
	for range 10 {
		d, err := s.Schedule(snap, f.Pod("ns", "p"))
		if err != nil {
			t.Fatal(err)
		}
		seen[d.Node] = true
	}
	if len(seen) < 5 {
		t.Fatalf("10 searches chose only %d distinct nodes: the start does not rotate", len(seen))
	}
}

// failing is a filter or score plugin that fails with an error.
type failing struct{}

func (failing) Name() string { return "Failing" }
func (failing) Filter(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return framework.AsStatus(errors.New("disk on fire"))
}
func (failing) Score(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) (int64, *framework.Status) {
	return 0, framework.AsStatus(errors.New("disk on fire"))
}

// outOfRange scores outside 0..100 without normalizing.
type outOfRange struct{}

func (outOfRange) Name() string { return "OutOfRange" }
func (outOfRange) Score(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) (int64, *framework.Status) {
	return 101, nil
}

func TestPluginErrorsAreNotFitErrors(t *testing.T) {
	snap := snapshot(f.NodeInfo(f.Node("a")), f.NodeInfo(f.Node("b")))
	for _, tc := range []struct {
		name string
		opts core.Options
		want string
	}{
		{"filter", core.Options{Filters: []framework.FilterPlugin{failing{}}}, "filter plugin Failing: disk on fire"},
		{"score", core.Options{Scores: []core.WeightedScore{{Plugin: failing{}, Weight: 1}}}, "score plugin Failing: disk on fire"},
		{"score out of range", core.Options{Scores: []core.WeightedScore{{Plugin: outOfRange{}, Weight: 1}}}, "outside [0, 100]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := core.New(tc.opts).Schedule(snap, f.Pod("ns", "p"))
			if err == nil || core.IsFitError(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Schedule = %v, want a plain error containing %q", err, tc.want)
			}
		})
	}
}

// rejectAll is a PreFilter that rejects every pod, and a filter that
// must then never run.
type rejectAll struct{ t *testing.T }

func (rejectAll) Name() string { return "RejectAll" }
func (rejectAll) PreFilter(*framework.CycleState, *framework.PodInfo) *framework.Status {
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, "pod is odd")
}
func (r rejectAll) Filter(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	r.t.Error("Filter ran after PreFilter rejected the pod")
	return nil
}

func TestPreFilterRejectionCountsEveryNode(t *testing.T) {
	snap := snapshot(f.NodeInfo(f.Node("a")), f.NodeInfo(f.Node("b")))
	_, err := core.New(core.Options{Filters: []framework.FilterPlugin{rejectAll{t}}}).Schedule(snap, f.Pod("ns", "p"))
	if want := "0/2 nodes are available: 2 pod is odd."; err == nil || err.Error() != want {
		t.Fatalf("Schedule = %v, want %q", err, want)
	}
}
