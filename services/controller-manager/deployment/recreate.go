package deployment

import (
	"context"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
)

// recreate scales every old ReplicaSet to zero, waits until their pods
// are gone, then scales the new one to spec.replicas.
func (c *Controller) recreate(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) error {
	newRS := findNew(d, rss)
	old := olds(rss, newRS)
	for i, rs := range old {
		updated, err := c.scale(ctx, d, rs, 0)
		if err != nil {
			return err
		}
		old[i] = updated
		rss = replace(rss, updated)
	}
	if c.oldPodsLeft(old) {
		return c.syncStatus(ctx, d, newRS, rss) // the pod deletions requeue d
	}
	newRS, rss, err := c.withNew(ctx, d, rss, d.GetSpec().GetReplicas())
	if err != nil {
		return err
	}
	if newRS, err = c.scale(ctx, d, newRS, d.GetSpec().GetReplicas()); err != nil {
		return err
	}
	rss = replace(rss, newRS)
	if err := c.cleanup(ctx, d, olds(rss, newRS)); err != nil {
		return err
	}
	return c.syncStatus(ctx, d, newRS, rss)
}

// oldPodsLeft reports whether any pod of the old ReplicaSets still exists,
// terminating ones included.
func (c *Controller) oldPodsLeft(old []*appsv1.ReplicaSet) bool {
	uids := map[string]bool{}
	for _, rs := range old {
		uids[rs.GetMetadata().GetUid()] = true
	}
	if len(uids) == 0 {
		return false
	}
	for _, p := range c.pods.ListNamespace(old[0].GetMetadata().GetNamespace(), nil) {
		if r := controller.ControllerRef(p.GetMetadata()); r != nil && uids[r.GetUid()] {
			if ph := p.GetStatus().GetPhase(); ph != "Succeeded" && ph != "Failed" {
				return true
			}
		}
	}
	return false
}

// withNew makes sure d's new ReplicaSet exists (created with replicas
// when missing) and returns it with rss updated.
func (c *Controller) withNew(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, replicas int32) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existed := findNew(d, rss) != nil
	newRS, err := c.ensureNew(ctx, d, rss, replicas)
	if err != nil {
		return nil, nil, err
	}
	if existed {
		return newRS, replace(rss, newRS), nil
	}
	return newRS, append(rss, newRS), nil
}

// syncPaused only scales: a paused deployment starts no rollout, but a
// deployment with one active ReplicaSet follows spec.replicas.
func (c *Controller) syncPaused(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) error {
	newRS := findNew(d, rss)
	var active []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs.GetSpec().GetReplicas() > 0 {
			active = append(active, rs)
		}
	}
	target := newRS
	if len(active) == 1 {
		target = active[0]
	}
	if target != nil && (len(active) == 0 || len(active) == 1 && active[0] == target) {
		updated, err := c.scale(ctx, d, target, d.GetSpec().GetReplicas())
		if err != nil {
			return err
		}
		rss = replace(rss, updated)
		if newRS != nil && updated.GetMetadata().GetUid() == newRS.GetMetadata().GetUid() {
			newRS = updated
		}
	}
	return c.syncStatus(ctx, d, newRS, rss)
}

// cleanup deletes the oldest scaled-down ReplicaSets beyond
// revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	limit := int(d.GetSpec().GetRevisionHistoryLimit())
	if d.GetSpec().RevisionHistoryLimit == nil {
		limit = 10
	}
	var idle []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.GetSpec().GetReplicas() == 0 && rs.GetStatus().GetReplicas() == 0 && rs.GetMetadata().GetDeletionTimestamp() == nil &&
			rs.GetStatus().GetObservedGeneration() >= rs.GetMetadata().GetGeneration() {
			idle = append(idle, rs)
		}
	}
	if len(idle) <= limit {
		return nil
	}
	byRevision(idle)
	for _, rs := range idle[:len(idle)-limit] {
		if err := c.deleteRS(ctx, rs); err != nil {
			return err
		}
	}
	return nil
}
