package cache

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
)

// requested returns the cpu requested on node in snap, failing when the
// node is missing.
func requested(t *testing.T, snap *framework.Snapshot, node string) int64 {
	t.Helper()
	ni := snap.Get(node)
	if ni == nil {
		t.Fatalf("node %s is not in the snapshot", node)
	}
	return ni.Requested.MilliCPU
}

func TestAssumeThenForget(t *testing.T) {
	c := New()
	c.AddNode(f.Node("n"))
	pod := f.Pod("ns", "p", f.Requests("1", "1Gi"), f.OnNode("n"))
	if err := c.AssumePod(pod); err != nil {
		t.Fatal(err)
	}
	if got := requested(t, c.Snapshot(), "n"); got != 1000 || !c.IsAssumed("ns/p") {
		t.Fatalf("after assume: %dm requested, assumed %v; want 1000m, true", got, c.IsAssumed("ns/p"))
	}
	if err := c.AssumePod(pod); err == nil {
		t.Fatal("assuming a pod twice succeeded")
	}
	if err := c.ForgetPod(pod); err != nil {
		t.Fatal(err)
	}
	if got := requested(t, c.Snapshot(), "n"); got != 0 || c.IsAssumed("ns/p") {
		t.Fatalf("after forget: %dm requested, assumed %v; want 0, false", got, c.IsAssumed("ns/p"))
	}
	if err := c.ForgetPod(pod); err == nil {
		t.Fatal("forgetting a pod that is not assumed succeeded")
	}
	if err := c.AssumePod(f.Pod("ns", "q")); err == nil {
		t.Fatal("assuming a pod without a node succeeded")
	}
}

func TestAddPodConfirmsAssumed(t *testing.T) {
	c := New()
	c.AddNode(f.Node("n"))
	assumed := f.Pod("ns", "p", f.Requests("1", "1Gi"), f.OnNode("n"))
	if err := c.AssumePod(assumed); err != nil {
		t.Fatal(err)
	}
	c.AddPod(f.Pod("ns", "p", f.Requests("1", "1Gi"), f.OnNode("n")))
	if c.IsAssumed("ns/p") {
		t.Fatal("the pod is still assumed after the informer reported it bound")
	}
	if got := requested(t, c.Snapshot(), "n"); got != 1000 {
		t.Fatalf("requested = %dm, want 1000m: counted once", got)
	}
	if err := c.ForgetPod(assumed); err == nil {
		t.Fatal("a confirmed pod could be forgotten")
	}
	if _, pods, assumedCount := c.Counts(); pods != 1 || assumedCount != 0 {
		t.Fatalf("Counts: %d pods, %d assumed; want 1, 0", pods, assumedCount)
	}
}

func TestAddPodMovesAssumedToTheBoundNode(t *testing.T) {
	c := New()
	c.AddNode(f.Node("a"))
	c.AddNode(f.Node("b"))
	if err := c.AssumePod(f.Pod("ns", "p", f.Requests("1", ""), f.OnNode("a"))); err != nil {
		t.Fatal(err)
	}
	c.AddPod(f.Pod("ns", "p", f.Requests("1", ""), f.OnNode("b")))
	snap := c.Snapshot()
	if requested(t, snap, "a") != 0 || requested(t, snap, "b") != 1000 {
		t.Fatalf("a %dm, b %dm; want the pod on b only", requested(t, snap, "a"), requested(t, snap, "b"))
	}
}

func TestIncrementalUpdates(t *testing.T) {
	c := New()
	c.AddNode(f.Node("a"))
	c.AddNode(f.Node("b"))
	c.AddPod(f.Pod("ns", "x", f.Requests("1", ""), f.OnNode("a")))
	first := c.Snapshot()
	if again := c.Snapshot(); again != first {
		t.Fatal("a snapshot with nothing changed is not the previous one")
	}

	c.AddPod(f.Pod("ns", "y", f.Requests("2", ""), f.OnNode("b")))
	second := c.Snapshot()
	if second == first {
		t.Fatal("a change did not make a new snapshot")
	}
	if second.Get("a") != first.Get("a") {
		t.Fatal("the unchanged node a was copied into the new snapshot")
	}
	if second.Get("b") == first.Get("b") {
		t.Fatal("the changed node b is shared with the old snapshot")
	}
	if requested(t, first, "b") != 0 || requested(t, second, "b") != 2000 {
		t.Fatalf("b: old snapshot %dm, new %dm; want 0 and 2000: snapshots are immutable",
			requested(t, first, "b"), requested(t, second, "b"))
	}

	c.UpdatePod(f.Pod("ns", "y", f.Requests("3", ""), f.OnNode("b")))
	c.RemovePod(f.Pod("ns", "x", f.OnNode("a")))
	third := c.Snapshot()
	if requested(t, third, "a") != 0 || requested(t, third, "b") != 3000 || requested(t, second, "a") != 1000 {
		t.Fatal("update and remove of pods not reflected, or leaked into an older snapshot")
	}
}

func TestNodes(t *testing.T) {
	c := New()
	c.AddNode(f.Node("a"))
	c.AddNode(f.Node("b"))
	c.AddNode(f.Node("c"))
	old := c.Snapshot()

	c.UpdateNode(f.Node("b", f.Labels("disk", "ssd")))
	c.RemoveNode("a")
	snap := c.Snapshot()
	if snap.NumNodes() != 2 || snap.Get("a") != nil || snap.Get("b").Node.Metadata.Labels["disk"] != "ssd" || snap.Get("c") == nil {
		t.Fatalf("after update and remove: %d nodes", snap.NumNodes())
	}
	for i, ni := range snap.Nodes() {
		if snap.Get(ni.Name()) != snap.Nodes()[i] {
			t.Fatalf("index of %s does not point at its position", ni.Name())
		}
	}
	if old.NumNodes() != 3 || old.Get("a") == nil || old.Get("b").Node.Metadata.Labels["disk"] == "ssd" {
		t.Fatal("an older snapshot changed with the cache")
	}
}

func TestPodsBeforeTheirNode(t *testing.T) {
	c := New()
	c.AddPod(f.Pod("ns", "p", f.Requests("1", ""), f.OnNode("late")))
	if c.Snapshot().Get("late") != nil {
		t.Fatal("a node known only from its pods is in the snapshot")
	}
	c.AddNode(f.Node("late"))
	if got := requested(t, c.Snapshot(), "late"); got != 1000 {
		t.Fatalf("requested on the late node = %dm, want its pod's 1000m", got)
	}
	c.RemoveNode("late")
	if c.Snapshot().Get("late") != nil {
		t.Fatal("a removed node is in the snapshot")
	}
	c.AddNode(f.Node("late"))
	if got := requested(t, c.Snapshot(), "late"); got != 1000 {
		t.Fatalf("after the node came back: %dm, want its pod still counted", got)
	}
}

func TestAssumedPodDeletedIsRemoved(t *testing.T) {
	c := New()
	c.AddNode(f.Node("n"))
	pod := f.Pod("ns", "p", f.Requests("1", ""), f.OnNode("n"))
	if err := c.AssumePod(pod); err != nil {
		t.Fatal(err)
	}
	c.RemovePod(pod)
	if requested(t, c.Snapshot(), "n") != 0 || c.IsAssumed("ns/p") {
		t.Fatal("a deleted assumed pod is still counted")
	}
}

func TestAddPodWithoutNodeIsIgnored(t *testing.T) {
	c := New()
	c.AddPod(&corev1.Pod{})
	if _, pods, _ := c.Counts(); pods != 0 {
		t.Fatalf("Counts: %d pods, want 0", pods)
	}
}
