package controller

import (
	"context"
	"fmt"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// Object is an API object a controller can own.
type Object interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// Claim is how an owner (a ReplicaSet of its pods, a Deployment of its
// ReplicaSets) takes what it controls, as Kubernetes' ControllerRefManager.
type Claim[T Object] struct {
	// Owner is the owner's metadata; APIVersion and Kind its reference's.
	Owner      *metav1.ObjectMeta
	APIVersion string
	Kind       string
	// Selector picks the owner's objects; an empty one matches nothing.
	Selector labels.Selector
	// Adoptable says whether an orphan may be adopted besides matching
	// (a pod: not finished); nil: any.
	Adoptable func(T) bool
	// Update writes an object whose owner references changed.
	Update func(context.Context, T) (T, error)
}

// Run returns the objects among candidates the owner controls: those with
// its controller reference that the selector still matches. It adopts
// orphans the selector matches (unless the owner or the orphan is being
// deleted) and releases owned objects it no longer matches. Objects gone
// meanwhile (NotFound) are skipped.
func (c Claim[T]) Run(ctx context.Context, candidates []T) ([]T, error) {
	uid := c.Owner.GetUid()
	var owned []T
	for _, o := range candidates {
		m := o.GetMetadata()
		matches := !c.Selector.Empty() && c.Selector.Matches(labels.Set(m.GetLabels()))
		ref := ControllerRef(m)
		switch {
		case ref != nil && ref.GetUid() == uid:
			if matches {
				owned = append(owned, o)
				continue
			}
			next := proto.Clone(o).(T)
			next.GetMetadata().OwnerReferences = WithoutOwner(m, uid)
			if _, err := c.Update(ctx, next); err != nil && status.Code(err) != codes.NotFound {
				return nil, fmt.Errorf("%s %s: release %s: %w", c.Kind, c.Owner.GetName(), m.GetName(), err)
			}
		case ref == nil && matches && c.Owner.GetDeletionTimestamp() == nil && m.GetDeletionTimestamp() == nil && (c.Adoptable == nil || c.Adoptable(o)):
			next := proto.Clone(o).(T)
			nm := next.GetMetadata()
			nm.OwnerReferences = append(nm.OwnerReferences, NewControllerRef(c.Owner, c.APIVersion, c.Kind))
			updated, err := c.Update(ctx, next)
			if status.Code(err) == codes.NotFound {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: adopt %s: %w", c.Kind, c.Owner.GetName(), m.GetName(), err)
			}
			owned = append(owned, updated)
		}
	}
	return owned, nil
}
