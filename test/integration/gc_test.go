package integration

import (
	"fmt"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// TestGarbageCollection deletes deployments with each propagation
// policy: Background and Foreground remove the ReplicaSets and pods (a
// foreground owner stays until they are gone), Orphan leaves them running
// without an owner.
func TestGarbageCollection(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	pods := podCache(t, c.cluster, "default", nil)
	for _, policy := range []string{"Background", "Foreground", "Orphan"} {
		t.Run(policy, func(t *testing.T) {
			ctx := harness.Context(t, 2*waitTimeout)
			name := "gc-" + map[string]string{"Background": "bg", "Foreground": "fg", "Orphan": "orphan"}[policy]
			if _, err := c.api.Client.Deployments().Create(ctx, deployment(name, 3, hollowImage)); err != nil {
				t.Fatal(err)
			}
			c.waitComplete(t, pods, name, hollowImage, 3)
			sel := labels.SelectorFromSet(labels.Set{"app": name})
			if _, err := c.api.Client.Deployments().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: name, PropagationPolicy: proto.String(policy)}); err != nil {
				t.Fatalf("delete with %s: %v", policy, err)
			}
			rsList := func() []*appsv1.ReplicaSet {
				l, err := c.api.Client.ReplicaSets().List(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: "app=" + name})
				if err != nil {
					t.Fatal(err)
				}
				return l.GetItems()
			}
			if policy == "Orphan" {
				harness.Poll(t, waitTimeout, "the deployment is gone and its ReplicaSet has no owner", func() (bool, string) {
					_, err := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: name})
					rss := rsList()
					return status.Code(err) == codes.NotFound && len(rss) == 1 && len(rss[0].GetMetadata().GetOwnerReferences()) == 0,
						fmt.Sprintf("deployment get: %v; replicasets %d", err, len(rss))
				})
				if n := countPods(pods.Lister().ListNamespace("default", sel), hollowImage); n.available != 3 {
					t.Fatalf("orphaned pods: %v, want 3 still available", n)
				}
				return
			}
			sawOwnerWaiting := policy != "Foreground"
			harness.Poll(t, waitTimeout, "the deployment, its ReplicaSet and its pods are gone", func() (bool, string) {
				d, err := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: name})
				if err == nil && d.GetMetadata().GetDeletionTimestamp() != nil {
					sawOwnerWaiting = true
				}
				left := len(pods.Lister().ListNamespace("default", sel))
				rss := rsList()
				return status.Code(err) == codes.NotFound && len(rss) == 0 && left == 0, fmt.Sprintf("deployment: %v; %d replicasets, %d pods", err, len(rss), left)
			})
			if !sawOwnerWaiting {
				t.Fatal("a foreground-deleted deployment never waited with its deletionTimestamp set")
			}
		})
	}
}

// TestNamespaceDeletion deletes a namespace holding a deployment (with its
// ReplicaSet and pods), a bare pod, a config map, a secret and a service
// account: it is
// Terminating, and once everything in it is gone it is gone too.
func TestNamespaceDeletion(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	ctx := harness.Context(t, 2*waitTimeout)
	cs := c.api.Client
	if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "doomed"}}); err != nil {
		t.Fatal(err)
	}
	d := deployment("app", 3, hollowImage)
	d.Metadata.Namespace = "doomed"
	if _, err := cs.Deployments().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ConfigMaps().Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "cfg"}, Data: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Secrets().Create(ctx, &corev1.Secret{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "s"}, StringData: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ServiceAccounts().Create(ctx, &corev1.ServiceAccount{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "bot"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Roles().Create(ctx, &rbacv1.Role{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "r"},
		Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RoleBindings().Create(ctx, &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "rb"},
		RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "r"},
		Subjects: []*rbacv1.Subject{{Kind: "User", Name: "u"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods().Create(ctx, &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "doomed", Name: "bare"},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: hollowImage}}}}); err != nil {
		t.Fatal(err)
	}
	pods := podCache(t, c.cluster, "doomed", nil)
	harness.Poll(t, waitTimeout, "4 pods running in namespace doomed", func() (bool, string) {
		n := countPods(pods.Lister().List(nil), hollowImage)
		return n.available == 4, n.String()
	})
	del, err := cs.Namespaces().Delete(ctx, &metav1.DeleteOptions{Name: "doomed"})
	if err != nil || del.GetStatus().GetPhase() != "Terminating" {
		t.Fatalf("delete namespace = %v, %v; want it Terminating", del.GetStatus(), err)
	}
	harness.Poll(t, waitTimeout, "namespace doomed and everything in it are gone", func() (bool, string) {
		_, err := cs.Namespaces().Get(ctx, &metav1.GetOptions{Name: "doomed"})
		left := len(pods.Lister().List(nil))
		rss, _ := cs.ReplicaSets().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
		return status.Code(err) == codes.NotFound && left == 0 && len(rss.GetItems()) == 0, fmt.Sprintf("namespace: %v, %d pods, %d replicasets", err, left, len(rss.GetItems()))
	})
	for what, list := range map[string]func() (int, error){
		"deployments": func() (int, error) {
			l, err := cs.Deployments().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"configmaps": func() (int, error) {
			l, err := cs.ConfigMaps().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"secrets": func() (int, error) {
			l, err := cs.Secrets().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"serviceaccounts": func() (int, error) {
			l, err := cs.ServiceAccounts().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"pods": func() (int, error) {
			l, err := cs.Pods().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"roles": func() (int, error) {
			l, err := cs.Roles().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
		"rolebindings": func() (int, error) {
			l, err := cs.RoleBindings().List(ctx, &metav1.ListOptions{Namespace: "doomed"})
			return len(l.GetItems()), err
		},
	} {
		if n, err := list(); n != 0 {
			t.Errorf("%d %s left in the deleted namespace (%v)", n, what, err)
		}
	}
}
