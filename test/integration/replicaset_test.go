package integration

import (
	"fmt"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// TestReplicaSetKeepsReplicas: a ReplicaSet gets its pods, owned by it and
// Ready, replaces a deleted one and scales 3 -> 1 through the scale
// subresource; a new ReplicaSet adopts a matching orphan instead of
// creating a pod.
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

	// An orphan that a new ReplicaSet's selector matches is adopted
	// rather than a pod created.
	c.createPod("orphan", image(hollowImage), func(p *corev1.Pod) { p.Metadata.Labels = map[string]string{"app": "rsy"} })
	c.waitRunning("orphan")
	rsy, err := c.api.Client.ReplicaSets().Create(ctx, &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "replicaset-y"},
		Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "rsy"}},
			Template: template("rsy", hollowImage)},
	})
	if err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "replicaset-y adopts the orphan and reports 1 replica", func() (bool, string) {
		got, err := c.api.Client.ReplicaSets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "replicaset-y"})
		if err != nil {
			return false, err.Error()
		}
		p := c.getPod("orphan")
		refs := p.GetMetadata().GetOwnerReferences()
		return len(refs) == 1 && refs[0].GetUid() == rsy.GetMetadata().GetUid() && got.GetStatus().GetReplicas() == 1, fmt.Sprintf("owners %v, status %v", refs, got.GetStatus())
	})
	ps := pods.Lister().ListNamespace("default", labels.SelectorFromSet(labels.Set{"app": "rsy"}))
	if len(ps) != 1 {
		t.Fatalf("%d pods labelled app=rsy, want only the adopted orphan", len(ps))
	}
}
