package server

import (
	"context"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// scalable is a kind with the scale subresource: its spec holds replicas
// and a selector, its status the observed replicas.
type scalable interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// scaler implements GetScale and UpdateScale over a kind's handler.
// replicas reads spec.replicas and the status count and the selector;
// setReplicas writes spec.replicas.
type scaler[T scalable, L proto.Message, E any] struct {
	*handler[T, L, E]
	read        func(T) (want, have int32, sel *metav1.LabelSelector)
	setReplicas func(T, int32)
}

// GetScale answers the object's scale subresource.
func (s *scaler[T, L, E]) GetScale(ctx context.Context, opts *metav1.GetOptions) (*appsv1.Scale, error) {
	obj, err := s.Get(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s.scaleOf(obj)
}

// UpdateScale sets spec.replicas through a regular update, so validation
// (a negative count), generation and compare-and-swap apply as they do to
// the object itself. An empty resourceVersion overwrites: a write that
// lands between this read and this update (a controller's status) is a
// conflict only for the update, which is then made again from a fresh
// read, as Kubernetes' GuaranteedUpdate does.
func (s *scaler[T, L, E]) UpdateScale(ctx context.Context, sc *appsv1.Scale) (*appsv1.Scale, error) {
	m := sc.GetMetadata()
	for attempt := 1; ; attempt++ {
		obj, err := s.Get(ctx, &metav1.GetOptions{Namespace: m.GetNamespace(), Name: m.GetName()})
		if err != nil {
			return nil, err
		}
		rv := m.GetResourceVersion()
		if rv != "" && rv != obj.GetMetadata().GetResourceVersion() {
			return nil, apierr.StaleWrite(s.res.Kind.Resource, m.GetName())
		}
		next := proto.Clone(obj).(T)
		s.setReplicas(next, sc.GetSpec().GetReplicas())
		updated, err := s.Update(ctx, next)
		if rv == "" && status.Code(err) == codes.Aborted && attempt < scaleRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return s.scaleOf(updated)
	}
}

// scaleRetries bounds the attempts of an unconditional UpdateScale that
// keeps meeting newer writes.
const scaleRetries = 10

func (s *scaler[T, L, E]) scaleOf(obj T) (*appsv1.Scale, error) {
	want, have, sel := s.read(obj)
	str, err := selector.ToString(sel)
	if err != nil {
		return nil, apierr.Internal(err)
	}
	m := obj.GetMetadata()
	return &appsv1.Scale{
		ApiVersion: "autoscaling/v1",
		Kind:       "Scale",
		Metadata: &metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), Uid: m.GetUid(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   &appsv1.ScaleSpec{Replicas: want},
		Status: &appsv1.ScaleStatus{Replicas: have, Selector: str},
	}, nil
}

func newReplicaSetScaler(h *handler[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent]) *scaler[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent] {
	return &scaler[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent]{
		handler: h,
		read: func(rs *appsv1.ReplicaSet) (int32, int32, *metav1.LabelSelector) {
			return rs.GetSpec().GetReplicas(), rs.GetStatus().GetReplicas(), rs.GetSpec().GetSelector()
		},
		setReplicas: func(rs *appsv1.ReplicaSet, n int32) {
			if rs.Spec == nil {
				rs.Spec = &appsv1.ReplicaSetSpec{}
			}
			rs.Spec.Replicas = proto.Int32(n)
		},
	}
}

func newDeploymentScaler(h *handler[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent]) *scaler[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent] {
	return &scaler[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent]{
		handler: h,
		read: func(d *appsv1.Deployment) (int32, int32, *metav1.LabelSelector) {
			return d.GetSpec().GetReplicas(), d.GetStatus().GetReplicas(), d.GetSpec().GetSelector()
		},
		setReplicas: func(d *appsv1.Deployment, n int32) {
			if d.Spec == nil {
				d.Spec = &appsv1.DeploymentSpec{}
			}
			d.Spec.Replicas = proto.Int32(n)
		},
	}
}
