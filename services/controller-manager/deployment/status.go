package deployment

import (
	"context"
	"fmt"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Condition types and reasons (Kubernetes' own).
const (
	Available   = "Available"
	Progressing = "Progressing"

	ReasonMinimumAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable = "MinimumReplicasUnavailable"
	ReasonNewRSAvailable     = "NewReplicaSetAvailable"
	ReasonRSUpdated          = "ReplicaSetUpdated"
	ReasonDeadlineExceeded   = "ProgressDeadlineExceeded"
	ReasonPaused             = "DeploymentPaused"
	ReasonResumed            = "DeploymentResumed"
	ReasonFoundNewReplicaSet = "FoundNewReplicaSet"
)

// syncStatus writes d's counts and conditions when they changed, and
// requeues d for its progress deadline.
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, rss []*appsv1.ReplicaSet) error {
	now := c.now()
	next := c.computeStatus(d, newRS, rss, now)
	if proto.Equal(next, d.GetStatus()) {
		return nil
	}
	upd := proto.Clone(d).(*appsv1.Deployment)
	upd.Status = next
	_, err := c.cs.Deployments().UpdateStatus(ctx, upd)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deployment %s: update status: %w", controller.Key(d.GetMetadata()), err)
	}
	return nil
}

func (c *Controller) computeStatus(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, rss []*appsv1.ReplicaSet, now time.Time) *appsv1.DeploymentStatus {
	old := d.GetStatus()
	st := &appsv1.DeploymentStatus{ObservedGeneration: d.GetMetadata().GetGeneration()}
	if old != nil {
		st.CollisionCount = old.CollisionCount
	}
	for _, rs := range rss {
		st.Replicas += rs.GetStatus().GetReplicas()
		st.ReadyReplicas += rs.GetStatus().GetReadyReplicas()
		st.AvailableReplicas += rs.GetStatus().GetAvailableReplicas()
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.GetStatus().GetReplicas()
	}
	replicas := d.GetSpec().GetReplicas()
	st.UnavailableReplicas = max(replicas-st.AvailableReplicas, 0)
	conds := append([]*appsv1.DeploymentCondition(nil), old.GetConditions()...)

	_, unavailable, _ := Fenceposts(d)
	if d.GetSpec().GetStrategy().GetType() == "Recreate" {
		unavailable = replicas
	}
	if st.AvailableReplicas >= replicas-unavailable {
		conds = setCondition(conds, Available, "True", ReasonMinimumAvailable, "Deployment has minimum availability.", now)
	} else {
		conds = setCondition(conds, Available, "False", ReasonMinimumUnavailable, "Deployment does not have minimum availability.", now)
	}

	complete := newRS != nil && st.UpdatedReplicas == replicas && st.Replicas == replicas && st.AvailableReplicas == replicas &&
		newRS.GetStatus().GetObservedGeneration() >= newRS.GetMetadata().GetGeneration()
	cur := condition(conds, Progressing)
	// Kubernetes' isCompleteDeployment: a rollout that completed stays
	// complete until a new one starts (a new template: updated replicas
	// fall behind); an availability dip is not a rollout, neither
	// progressing nor timing out.
	settled := st.Replicas == st.UpdatedReplicas && cur != nil && cur.GetReason() == ReasonNewRSAvailable
	deadline := time.Duration(d.GetSpec().GetProgressDeadlineSeconds()) * time.Second
	switch {
	case d.GetSpec().GetPaused():
		conds = setCondition(conds, Progressing, "Unknown", ReasonPaused, "Deployment is paused", now)
	case settled && !complete:
	case complete:
		conds = setCondition(conds, Progressing, "True", ReasonNewRSAvailable, fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.GetMetadata().GetName()), now)
	case cur != nil && cur.GetReason() == ReasonPaused:
		conds = setCondition(conds, Progressing, "Unknown", ReasonResumed, "Deployment is resumed", now)
		conds = touch(conds, now)
	case progressed(old, st) || cur == nil || cur.GetReason() == ReasonNewRSAvailable || cur.GetReason() == ReasonResumed:
		name := ""
		if newRS != nil {
			name = newRS.GetMetadata().GetName()
		}
		conds = setCondition(conds, Progressing, "True", ReasonRSUpdated, fmt.Sprintf("ReplicaSet %q is progressing.", name), now)
		conds = touch(conds, now)
	case d.GetSpec().ProgressDeadlineSeconds != nil && cur.GetLastUpdateTime().AsTime().Add(deadline).Before(now):
		conds = setCondition(conds, Progressing, "False", ReasonDeadlineExceeded, fmt.Sprintf("Deployment %q has timed out progressing.", d.GetMetadata().GetName()), now)
	}
	if p := condition(conds, Progressing); !complete && !settled && p != nil && p.GetStatus() == "True" && d.GetSpec().ProgressDeadlineSeconds != nil {
		left := p.GetLastUpdateTime().AsTime().Add(deadline).Sub(now)
		c.EnqueueAfter(controller.Key(d.GetMetadata()), left+time.Second)
	}
	st.Conditions = conds
	return st
}

// progressed: more pods were updated, ready or available than before.
func progressed(old, st *appsv1.DeploymentStatus) bool {
	return st.UpdatedReplicas > old.GetUpdatedReplicas() || st.ReadyReplicas > old.GetReadyReplicas() ||
		st.AvailableReplicas > old.GetAvailableReplicas() || st.Replicas < old.GetReplicas()
}

func condition(conds []*appsv1.DeploymentCondition, typ string) *appsv1.DeploymentCondition {
	for _, c := range conds {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// setCondition sets a condition, keeping its times when nothing changed
// and its transition time when only the reason did.
func setCondition(conds []*appsv1.DeploymentCondition, typ, st, reason, msg string, now time.Time) []*appsv1.DeploymentCondition {
	ts := timestamppb.New(now.Truncate(time.Second))
	for i, c := range conds {
		if c.GetType() != typ {
			continue
		}
		if c.GetStatus() == st && c.GetReason() == reason && c.GetMessage() == msg {
			return conds
		}
		n := &appsv1.DeploymentCondition{Type: typ, Status: st, Reason: reason, Message: msg, LastUpdateTime: ts, LastTransitionTime: c.GetLastTransitionTime()}
		if c.GetStatus() != st {
			n.LastTransitionTime = ts
		}
		conds[i] = n
		return conds
	}
	return append(conds, &appsv1.DeploymentCondition{Type: typ, Status: st, Reason: reason, Message: msg, LastUpdateTime: ts, LastTransitionTime: ts})
}

// touch moves the Progressing condition's lastUpdateTime to now: the
// progress deadline counts from there.
func touch(conds []*appsv1.DeploymentCondition, now time.Time) []*appsv1.DeploymentCondition {
	if c := condition(conds, Progressing); c != nil {
		n := proto.Clone(c).(*appsv1.DeploymentCondition)
		n.LastUpdateTime = timestamppb.New(now.Truncate(time.Second))
		for i := range conds {
			if conds[i] == c {
				conds[i] = n
			}
		}
	}
	return conds
}

func (c *Controller) deleteRS(ctx context.Context, rs *appsv1.ReplicaSet) error {
	m := rs.GetMetadata()
	_, err := c.cs.ReplicaSets().Delete(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(),
		Preconditions: &metav1.Preconditions{Uid: proto.String(m.GetUid())}})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("delete old replicaset %s: %w", m.GetName(), err)
	}
	return nil
}
