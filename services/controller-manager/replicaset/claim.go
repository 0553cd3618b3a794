package replicaset

import (
	"context"
	"fmt"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// claim returns the pods rs owns: those with its controller reference
// that its selector still matches. It adopts orphans the selector matches
// (unless rs is being deleted) and releases owned pods it no longer
// matches.
func (c *Controller) claim(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	m := rs.GetMetadata()
	var owned []*corev1.Pod
	for _, p := range c.pods.ListNamespace(m.GetNamespace(), nil) {
		pm := p.GetMetadata()
		matches := !sel.Empty() && sel.Matches(labels.Set(pm.GetLabels()))
		ref := controller.ControllerRef(pm)
		switch {
		case ref != nil && ref.GetUid() == m.GetUid():
			if matches {
				owned = append(owned, p)
				continue
			}
			if err := c.setOwner(ctx, p, nil, m.GetUid()); err != nil {
				return nil, fmt.Errorf("replicaset %s: release pod %s: %w", m.GetName(), pm.GetName(), err)
			}
		case ref == nil && matches && m.GetDeletionTimestamp() == nil && pm.GetDeletionTimestamp() == nil && controller.Active(p):
			adopted := controller.NewControllerRef(m, "apps/v1", "ReplicaSet")
			err := c.setOwner(ctx, p, adopted, "")
			if status.Code(err) == codes.NotFound {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("replicaset %s: adopt pod %s: %w", m.GetName(), pm.GetName(), err)
			}
			owned = append(owned, p)
		}
	}
	return owned, nil
}

// setOwner adds ref to a pod's owners, or removes the owner uid, with an
// update that fails if the pod changed meanwhile.
func (c *Controller) setOwner(ctx context.Context, p *corev1.Pod, ref *metav1.OwnerReference, remove string) error {
	next := proto.Clone(p).(*corev1.Pod)
	if ref != nil {
		next.Metadata.OwnerReferences = append(next.Metadata.OwnerReferences, ref)
	} else {
		next.Metadata.OwnerReferences = controller.WithoutOwner(next.Metadata, remove)
	}
	_, err := c.cs.Pods().Update(ctx, next)
	return err
}
