package controller_test

import (
	"context"
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"k8s.io/apimachinery/pkg/labels"
)

// Claim keeps what the owner controls and its selector matches, adopts
// matching adoptable orphans, releases what it no longer matches, and
// leaves everything else alone.
func TestClaim(t *testing.T) {
	env := testenv.Start(t)
	owner := &metav1.ObjectMeta{Namespace: "default", Name: "rs", Uid: "owner-uid"}
	mine := controller.NewControllerRef(owner, "apps/v1", "ReplicaSet")
	other := &metav1.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", Uid: "other", Controller: func() *bool { b := true; return &b }()}
	pod := func(name, app, phase string, ref *metav1.OwnerReference) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": app}},
			Status: &corev1.PodStatus{Phase: phase}}
		if ref != nil {
			p.Metadata.OwnerReferences = []*metav1.OwnerReference{ref}
		}
		created, err := env.Srv.Pods.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	pods := []*corev1.Pod{
		pod("owned", "a", "Running", mine),
		pod("relabelled", "b", "Running", mine),
		pod("orphan", "a", "Running", nil),
		pod("finished-orphan", "a", "Succeeded", nil),
		pod("unmatched-orphan", "b", "Running", nil),
		pod("others", "a", "Running", other),
	}
	c := controller.Claim[*corev1.Pod]{
		Owner: owner, APIVersion: "apps/v1", Kind: "ReplicaSet", Selector: labels.SelectorFromSet(labels.Set{"app": "a"}),
		Adoptable: controller.Active,
		Update: func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
			return env.CS.Pods().Update(ctx, p)
		},
	}
	owned, err := c.Run(env.Ctx, pods)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range owned {
		names = append(names, p.GetMetadata().GetName())
	}
	if !slices.Equal(names, []string{"owned", "orphan"}) {
		t.Fatalf("claimed %v, want [owned orphan]", names)
	}
	ownerOf := func(name string) string {
		p, err := env.Srv.Pods.Get("default", name)
		if err != nil {
			t.Fatal(err)
		}
		if r := controller.ControllerRef(p.GetMetadata()); r != nil {
			return r.GetUid()
		}
		return ""
	}
	for name, want := range map[string]string{"owned": "owner-uid", "orphan": "owner-uid", "relabelled": "", "finished-orphan": "",
		"unmatched-orphan": "", "others": "other"} {
		if got := ownerOf(name); got != want {
			t.Errorf("pod %s: controller uid %q, want %q", name, got, want)
		}
	}
	// Neither the owner's nor any object's cached copy was changed.
	if controller.ControllerRef(pods[2].GetMetadata()) != nil || controller.ControllerRef(pods[1].GetMetadata()) == nil {
		t.Fatal("Claim changed the objects it was given")
	}
	// An empty selector claims nothing.
	c.Selector = labels.Everything()
	if owned, err := c.Run(env.Ctx, []*corev1.Pod{pods[4]}); err != nil || len(owned) != 0 {
		t.Fatalf("empty selector: claimed %d, %v", len(owned), err)
	}
}
