package replicaset

import (
	"context"
	"fmt"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// updateStatus writes the counts of rs's active pods when they changed,
// and requeues rs for when a ready pod becomes available.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, active []*corev1.Pod) error {
	st := count(rs, active, c.now())
	if wait := st.wait; wait > 0 {
		c.EnqueueAfter(controller.Key(rs.GetMetadata()), wait)
	}
	next := st.ReplicaSetStatus
	next.Conditions = rs.GetStatus().GetConditions()
	if proto.Equal(next, rs.GetStatus()) {
		return nil
	}
	upd := proto.Clone(rs).(*appsv1.ReplicaSet)
	upd.Status = next
	_, err := c.cs.ReplicaSets().UpdateStatus(ctx, upd)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replicaset %s: update status: %w", controller.Key(rs.GetMetadata()), err)
	}
	return nil
}

// computed is a ReplicaSet's status and how long until one of its ready
// pods becomes available.
type computed struct {
	*appsv1.ReplicaSetStatus
	wait time.Duration
}

// count counts rs's active pods at now.
func count(rs *appsv1.ReplicaSet, active []*corev1.Pod, now time.Time) computed {
	st := &appsv1.ReplicaSetStatus{Replicas: int32(len(active)), ObservedGeneration: rs.GetMetadata().GetGeneration()}
	tl := labels.SelectorFromSet(rs.GetSpec().GetTemplate().GetMetadata().GetLabels())
	minReady := time.Duration(rs.GetSpec().GetMinReadySeconds()) * time.Second
	var wait time.Duration
	for _, p := range active {
		if tl.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			st.FullyLabeledReplicas++
		}
		if controller.Ready(p) {
			st.ReadyReplicas++
		}
		ok, left := controller.Available(p, minReady, now)
		if ok {
			st.AvailableReplicas++
		} else if left > 0 && (wait == 0 || left < wait) {
			wait = left
		}
	}
	return computed{ReplicaSetStatus: st, wait: wait}
}
