package integration

import (
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// TestReplicaSetKeepsReplicas: a ReplicaSet gets its pods, owned by it and
// Ready, replaces a deleted one, adopts a matching orphan instead of
// creating, and scales 3 -> 1 through the scale subresource.
func TestReplicaSetKeepsReplicas(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	ctx := harness.Context(t, 2*waitTimeout)
	sel := labels.SelectorFromSet(labels.Set{"app": "rsx"})
	pods := podCache(t, c.cluster, "default", nil)
	rs, err := c.api.Client.ReplicaSets().Create(ctx, &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "replicaset-x"},
		Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "rsx"}},
			Template: template("rsx", hollowImage)},
	})
	if err != nil {
		t.Fatalf("create replicaset: %v", err)
	}
	waitPods := func(what string, want int) {
		t.Helper()
		harness.Poll(t, waitTimeout, what, func() (bool, string) {
			n := countPods(pods.Lister().ListNamespace("default", sel), hollowImage)
			got, err := c.api.Client.ReplicaSets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "replicaset-x"})
			if err != nil {
				return false, err.Error()
			}
			st := got.GetStatus()
			return n.active == want && n.available == want && st.GetReplicas() == int32(want) && st.GetReadyReplicas() == int32(want) &&
				st.GetAvailableReplicas() == int32(want) && st.GetObservedGeneration() == got.GetMetadata().GetGeneration(), n.String() + ", status " + st.String()
		})
	}
	waitPods("3 ready pods and status replicas=ready=available=3", 3)
	for _, p := range pods.Lister().ListNamespace("default", sel) {
		refs := p.GetMetadata().GetOwnerReferences()
		if len(refs) != 1 || refs[0].GetUid() != rs.GetMetadata().GetUid() || !refs[0].GetController() || refs[0].GetKind() != "ReplicaSet" {
			t.Fatalf("pod %s owners = %v, want the ReplicaSet as controller", p.GetMetadata().GetName(), refs)
		}
	}

	victim := pods.Lister().ListNamespace("default", sel)[0].GetMetadata().GetName()
	if _, err := c.api.Client.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: victim}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the deleted pod is replaced", func() (bool, string) {
		ps := pods.Lister().ListNamespace("default", sel)
		for _, p := range ps {
			if p.GetMetadata().GetName() == victim {
				return false, "victim still present"
			}
		}
		n := countPods(ps, hollowImage)
		return n.available == 3, n.String()
	})

	if _, err := c.api.Client.ReplicaSets().UpdateScale(ctx, &appsv1.Scale{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "replicaset-x"}, Spec: &appsv1.ScaleSpec{Replicas: 1}}); err != nil {
		t.Fatalf("scale to 1: %v", err)
	}
	waitPods("scaled 3 -> 1", 1)

	c.createPod("orphan", image(hollowImage), func(p *corev1.Pod) { p.Metadata.Labels = map[string]string{"app": "rsx"} })
	if _, err := c.api.Client.ReplicaSets().UpdateScale(ctx, &appsv1.Scale{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "replicaset-x"}, Spec: &appsv1.ScaleSpec{Replicas: 2}}); err != nil {
		t.Fatalf("scale to 2: %v", err)
	}
	waitPods("scaled 1 -> 2 with the orphan adopted", 2)
	got, err := c.api.Client.Pods().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "orphan"})
	if err != nil || got.GetMetadata().GetOwnerReferences()[0].GetUid() != rs.GetMetadata().GetUid() {
		t.Fatalf("orphan pod = %v, %v; want it adopted by the ReplicaSet", got.GetMetadata(), err)
	}
}
