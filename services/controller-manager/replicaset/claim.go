package replicaset

import (
	"context"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"k8s.io/apimachinery/pkg/labels"
)

// claim returns the pods rs owns: those with its controller reference
// that its selector still matches. It adopts active orphans the selector
// matches (unless rs is being deleted) and releases owned pods it no
// longer matches.
func (c *Controller) claim(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	m := rs.GetMetadata()
	return controller.Claim[*corev1.Pod]{
		Owner: m, APIVersion: "apps/v1", Kind: "ReplicaSet", Selector: sel,
		Adoptable: controller.Active,
		Update: func(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
			return c.cs.Pods().Update(ctx, p)
		},
	}.Run(ctx, c.pods.ListNamespace(m.GetNamespace(), nil))
}
