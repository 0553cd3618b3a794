package deployment

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// rollingUpdate moves d one step towards its template: scale the new
// ReplicaSet up within maxSurge, the old ones down within maxUnavailable.
func (c *Controller) rollingUpdate(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) error {
	surge, unavailable, err := Fenceposts(d)
	if err != nil {
		return err
	}
	newRS, rss, err := c.withNew(ctx, d, rss, 0)
	if err != nil {
		return err
	}
	replicas := d.GetSpec().GetReplicas()
	if want := NewReplicas(replicas, surge, podTotal(rss), newRS.GetSpec().GetReplicas()); want != newRS.GetSpec().GetReplicas() {
		if newRS, err = c.scale(ctx, d, newRS, want); err != nil {
			return err
		}
		rss = replace(rss, newRS)
	}
	old := olds(rss, newRS)
	budget := ScaleDownBudget(replicas, unavailable, rss, newRS)
	// Old pods that are not available go first: removing them costs
	// no availability.
	sort.SliceStable(old, func(i, j int) bool { return Revision(old[i].GetMetadata()) < Revision(old[j].GetMetadata()) })
	for i, rs := range old {
		if budget <= 0 {
			break
		}
		unhealthy := rs.GetSpec().GetReplicas() - availableOf(rs)
		if n := min(unhealthy, budget); n > 0 {
			updated, err := c.scale(ctx, d, rs, rs.GetSpec().GetReplicas()-n)
			if err != nil {
				return err
			}
			old[i] = updated
			rss = replace(rss, updated)
			budget -= n
		}
	}
	if budget > 0 {
		down := min(budget, availableTotal(rss)-(replicas-unavailable))
		for i, rs := range old {
			if down <= 0 {
				break
			}
			n := min(rs.GetSpec().GetReplicas(), down)
			if n <= 0 {
				continue
			}
			updated, err := c.scale(ctx, d, rs, rs.GetSpec().GetReplicas()-n)
			if err != nil {
				return err
			}
			old[i] = updated
			rss = replace(rss, updated)
			down -= n
		}
	}
	if err := c.cleanup(ctx, d, old); err != nil {
		return err
	}
	return c.syncStatus(ctx, d, newRS, rss)
}

// Fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against spec.replicas; both zero makes maxUnavailable 1, as in
// Kubernetes, so that a rollout can always move.
func Fenceposts(d *appsv1.Deployment) (surge, unavailable int32, err error) {
	replicas := d.GetSpec().GetReplicas()
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	if surge, err = scaled(ru.GetMaxSurge(), replicas, true, "25%"); err != nil {
		return 0, 0, fmt.Errorf("deployment %s: maxSurge: %w", d.GetMetadata().GetName(), err)
	}
	if unavailable, err = scaled(ru.GetMaxUnavailable(), replicas, false, "25%"); err != nil {
		return 0, 0, fmt.Errorf("deployment %s: maxUnavailable: %w", d.GetMetadata().GetName(), err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}

// scaled reads an int-or-percent value ("25%", 3) against total.
func scaled(v *structpb.Value, total int32, roundUp bool, def string) (int32, error) {
	var s string
	switch k := v.GetKind().(type) {
	case nil:
		s = def
	case *structpb.Value_NumberValue:
		if k.NumberValue < 0 || k.NumberValue != math.Trunc(k.NumberValue) {
			return 0, fmt.Errorf("%v is not a count", k.NumberValue)
		}
		return int32(k.NumberValue), nil
	case *structpb.Value_StringValue:
		s = k.StringValue
	default:
		return 0, fmt.Errorf("%v is neither a count nor a percentage", v)
	}
	if !strings.HasSuffix(s, "%") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is neither a count nor a percentage", s)
		}
		return int32(n), nil
	}
	pct, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || pct < 0 {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	f := float64(pct) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(f)), nil
	}
	return int32(math.Floor(f)), nil
}

// NewReplicas is the new ReplicaSet's next size: up to replicas, as far as
// replicas+surge minus the pods of every ReplicaSet (total) allows.
func NewReplicas(replicas, surge, total, current int32) int32 {
	if current >= replicas {
		return replicas
	}
	room := replicas + surge - total
	if room <= 0 {
		return current
	}
	return current + min(room, replicas-current)
}

// ScaleDownBudget is how many old pods may go now: everything above the
// minimum available (replicas - maxUnavailable), counting the new
// ReplicaSet's pods that are not available yet as already missing.
func ScaleDownBudget(replicas, unavailable int32, rss []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	newUnavailable := max(newRS.GetSpec().GetReplicas()-availableOf(newRS), 0)
	return specTotal(rss) - (replicas - unavailable) - newUnavailable
}

// availableOf is a lower bound of the pods of rs that will be available
// once it has its spec.replicas: its status may still count pods it is
// about to delete.
func availableOf(rs *appsv1.ReplicaSet) int32 {
	return min(rs.GetStatus().GetAvailableReplicas(), rs.GetSpec().GetReplicas())
}

// podTotal bounds the pods the ReplicaSets have or will have: an old
// ReplicaSet scaled down still has its pods until its controller deletes
// them (its status.replicas says how many), so the new one grows only
// into room that is free of pods, not just of spec.replicas.
func podTotal(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += max(rs.GetSpec().GetReplicas(), rs.GetStatus().GetReplicas())
	}
	return n
}

func specTotal(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rs.GetSpec().GetReplicas()
	}
	return n
}

func availableTotal(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += availableOf(rs)
	}
	return n
}

// replace puts rs in place of the ReplicaSet with its uid.
func replace(rss []*appsv1.ReplicaSet, rs *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, len(rss))
	for i, r := range rss {
		if r.GetMetadata().GetUid() == rs.GetMetadata().GetUid() {
			r = rs
		}
		out[i] = r
	}
	return out
}
