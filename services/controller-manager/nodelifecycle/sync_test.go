package nodelifecycle

import (
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func newTest(t *testing.T, now time.Time, nodes []*corev1.Node, pods ...*corev1.Pod) (*testenv.Env, *Controller) {
	t.Helper()
	env := testenv.Start(t)
	for _, n := range nodes {
		if _, err := env.Srv.Nodes.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pods {
		if _, err := env.Srv.Pods.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	nodeInf := informer.New(env.CS.Nodes(), informer.Options{})
	leaseInf := informer.New(env.CS.Leases(), informer.Options{})
	podInf := informer.New(env.CS.Pods(), informer.Options{})
	c, err := New(Config{GracePeriod: 40 * time.Second, DefaultTolerationSeconds: 300, Now: func() time.Time { return now }},
		env.CS, nodeInf, leaseInf, podInf, env.Events, env.Metrics, env.Log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nodeInf)
	testenv.Run(t, leaseInf)
	testenv.Run(t, podInf)
	return env, c
}

func readyPod(name, node string, at time.Time) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.PodSpec{NodeName: node},
		Status: &corev1.PodStatus{Phase: "Running", Conditions: []*corev1.PodCondition{
			{Type: "Ready", Status: "True", LastTransitionTime: timestamppb.New(at)}}},
	}
}

func podReady(t *testing.T, env *testenv.Env, name string) string {
	t.Helper()
	p, err := env.Srv.Pods.Get("default", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}

// A pod bound to a node already Ready=Unknown (after the transition, or
// whose first update failed) is marked not ready by a later sync.
func TestUnknownNodeMarksPodsNotReadyOnEverySync(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	old := timestamppb.New(now.Add(-time.Hour))
	node := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"},
		Spec: &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: TaintUnreachable, Effect: "NoExecute", TimeAdded: timestamppb.New(now)}}},
		Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{
			{Type: "Ready", Status: "Unknown", Reason: "NodeStatusUnknown", LastHeartbeatTime: old, LastTransitionTime: old}}}}
	env, c := newTest(t, now, []*corev1.Node{node}, readyPod("late", "n1", now.Add(-time.Minute)))
	testenv.Eventually(t, "the pod is indexed on its node", func() bool { return len(c.podsOn("n1")) == 1 })
	if err := c.sync(env.Ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if got := podReady(t, env, "late"); got != "False" {
		t.Fatalf("pod on a Ready=Unknown node: Ready = %q, want False", got)
	}
	// Idempotent: a second sync, once the cache holds every write of the
	// first, writes nothing.
	// (The node's pod index is filled by the informer's handlers, after
	// its store: wait on the index itself.)
	testenv.Eventually(t, "the node's pod index holds the pod as stored", func() bool {
		stored, err := env.Srv.Pods.Get("default", "late")
		pods := c.podsOn("n1")
		return err == nil && len(pods) == 1 && pods[0].GetMetadata().GetResourceVersion() == stored.GetMetadata().GetResourceVersion()
	})
	rev := env.Srv.Pods.Revision()
	if err := c.sync(env.Ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if got := env.Srv.Pods.Revision(); got != rev {
		t.Fatalf("a second sync rewrote an already not-ready pod (revision %d -> %d)", rev, got)
	}
}

// The pods bound to a deleted node are deleted, and the node leaves the
// pod index.
func TestDeletedNodeCleansItsPods(t *testing.T) {
	now := time.Now()
	hb := timestamppb.New(now)
	node := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"},
		Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", LastHeartbeatTime: hb, LastTransitionTime: hb}}}}
	other := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n2"},
		Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", LastHeartbeatTime: hb, LastTransitionTime: hb}}}}
	env, c := newTest(t, now, []*corev1.Node{node, other}, readyPod("a", "n1", now), readyPod("b", "n1", now), readyPod("c", "n2", now))
	go c.Loop.Run(env.Ctx, 2)
	testenv.Eventually(t, "the pods are indexed", func() bool { return len(c.podsOn("n1")) == 2 })
	if _, err := env.Srv.Nodes.Delete("", "n1"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		testenv.Eventually(t, "pod "+name+" of the deleted node is deleted", func() bool {
			_, err := env.Srv.Pods.Get("default", name)
			return status.Code(err) == codes.NotFound
		})
	}
	testenv.Eventually(t, "the deleted node leaves the pod index", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, indexed := c.byNode["n1"]
		return !indexed && !c.gone["n1"]
	})
	if _, err := env.Srv.Pods.Get("default", "c"); err != nil {
		t.Fatalf("the pod of the remaining node was touched: %v", err)
	}
}
