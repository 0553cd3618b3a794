package deployment

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"sort"
	"strconv"

	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/client/rollout"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// claim returns the ReplicaSets d owns, adopting orphans its selector
// matches and releasing owned ones it no longer matches.
func (c *Controller) claim(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	m := d.GetMetadata()
	return controller.Claim[*appsv1.ReplicaSet]{
		Owner: m, APIVersion: "apps/v1", Kind: "Deployment", Selector: sel,
		Update: func(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
			return c.cs.ReplicaSets().Update(ctx, rs)
		},
	}.Run(ctx, c.rss.ListNamespace(m.GetNamespace(), nil))
}

// Hash is the pod-template-hash of a template: FNV-32a over its
// deterministic encoding without the hash label, plus the collision count.
func Hash(t *corev1.PodTemplateSpec, collisions int32) string {
	t = rollout.WithoutHash(t)
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	h := fnv.New32a()
	_, _ = h.Write(b)
	if collisions > 0 {
		_, _ = h.Write([]byte(strconv.Itoa(int(collisions))))
	}
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// SameTemplate reports whether two templates are equal but for the
// pod-template-hash label.
func SameTemplate(a, b *corev1.PodTemplateSpec) bool { return rollout.SameTemplate(a, b) }

// findNew returns the ReplicaSet of d's current template, or nil; the
// oldest one when several match.
func findNew(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	var found *appsv1.ReplicaSet
	for _, rs := range rss {
		if SameTemplate(rs.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			if found == nil || rs.GetMetadata().GetCreationTimestamp().AsTime().Before(found.GetMetadata().GetCreationTimestamp().AsTime()) {
				found = rs
			}
		}
	}
	return found
}

// olds returns rss without newRS.
func olds(rss []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if newRS == nil || rs.GetMetadata().GetUid() != newRS.GetMetadata().GetUid() {
			out = append(out, rs)
		}
	}
	return out
}

// Revision reads a ReplicaSet's (or Deployment's) revision annotation; 0
// when it has none.
func Revision(m *metav1.ObjectMeta) int64 {
	n, _ := rollout.ParseRevision(m)
	return n
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var max int64
	for _, rs := range rss {
		max = maxOf(max, Revision(rs.GetMetadata()))
	}
	return max
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// byRevision sorts ReplicaSets oldest revision first.
func byRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool { return Revision(rss[i].GetMetadata()) < Revision(rss[j].GetMetadata()) })
}

// ensureNew returns d's new ReplicaSet with the latest revision: it
// creates it (with replicas) when missing, or gives an existing one (a
// rollback) the next revision, and writes the revision to d.
func (c *Controller) ensureNew(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, replicas int32) (*appsv1.ReplicaSet, error) {
	m := d.GetMetadata()
	newRS := findNew(d, rss)
	next := maxRevision(olds(rss, newRS)) + 1
	if newRS != nil {
		cur := Revision(newRS.GetMetadata())
		rollback := cur < next
		if rollback || newRS.GetSpec().GetMinReadySeconds() != d.GetSpec().GetMinReadySeconds() {
			upd := proto.Clone(newRS).(*appsv1.ReplicaSet)
			if rollback {
				setRevision(upd.Metadata, next, cur)
				copyChangeCause(d, upd.Metadata)
			}
			upd.Spec.MinReadySeconds = d.GetSpec().GetMinReadySeconds()
			updated, err := c.cs.ReplicaSets().Update(ctx, upd)
			if err != nil {
				return nil, fmt.Errorf("deployment %s: update replicaset %s: %w", m.GetName(), upd.GetMetadata().GetName(), err)
			}
			c.written(updated)
			newRS = updated
			if rollback {
				c.events.Eventf(ref(d), record.Normal, "DeploymentRollback", "Rolled back deployment %q to revision %d (now revision %d)", m.GetName(), cur, next)
			}
		}
		return newRS, c.setDeploymentRevision(ctx, d, Revision(newRS.GetMetadata()))
	}
	hash := Hash(d.GetSpec().GetTemplate(), d.GetStatus().GetCollisionCount())
	t := proto.Clone(d.GetSpec().GetTemplate()).(*corev1.PodTemplateSpec)
	if t.Metadata == nil {
		t.Metadata = &metav1.ObjectMeta{}
	}
	t.Metadata.Labels = maps.Clone(t.Metadata.Labels)
	if t.Metadata.Labels == nil {
		t.Metadata.Labels = map[string]string{}
	}
	t.Metadata.Labels[HashLabel] = hash
	sel := proto.Clone(d.GetSpec().GetSelector()).(*metav1.LabelSelector)
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[HashLabel] = hash
	rs := &appsv1.ReplicaSet{
		ApiVersion: "apps/v1", Kind: "ReplicaSet",
		Metadata: &metav1.ObjectMeta{
			Name: m.GetName() + "-" + hash, Namespace: m.GetNamespace(), Labels: t.Metadata.Labels,
			OwnerReferences: []*metav1.OwnerReference{controller.NewControllerRef(m, "apps/v1", "Deployment")},
		},
		Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(replicas), MinReadySeconds: d.GetSpec().GetMinReadySeconds(), Selector: sel, Template: t},
	}
	setRevision(rs.Metadata, next, 0)
	copyChangeCause(d, rs.Metadata)
	created, err := c.cs.ReplicaSets().Create(ctx, rs)
	if status.Code(err) == codes.AlreadyExists {
		// Ours, created by an earlier sync and not cached yet: use it.
		// Another template under that name: count the collision so that
		// the next sync hashes differently.
		cur, gerr := c.cs.ReplicaSets().Get(ctx, &metav1.GetOptions{Namespace: m.GetNamespace(), Name: rs.Metadata.Name})
		if gerr != nil {
			return nil, fmt.Errorf("deployment %s: read existing replicaset %s: %w", m.GetName(), rs.Metadata.Name, gerr)
		}
		if r := controller.ControllerRef(cur.GetMetadata()); r != nil && r.GetUid() == m.GetUid() && SameTemplate(cur.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			return cur, c.setDeploymentRevision(ctx, d, Revision(cur.GetMetadata()))
		}
		return nil, c.bumpCollisions(ctx, d)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment %s: create replicaset: %w", m.GetName(), err)
	}
	c.events.Eventf(ref(d), record.Normal, "ScalingReplicaSet", "Scaled up replica set %s to %d", rs.Metadata.Name, replicas)
	return created, c.setDeploymentRevision(ctx, d, next)
}

func setRevision(m *metav1.ObjectMeta, rev, previous int64) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[RevisionAnnotation] = strconv.FormatInt(rev, 10)
	if previous > 0 {
		h := m.Annotations[RevisionHistoryAnnotation]
		if h != "" {
			h += ","
		}
		m.Annotations[RevisionHistoryAnnotation] = h + strconv.FormatInt(previous, 10)
	}
}

func copyChangeCause(d *appsv1.Deployment, m *metav1.ObjectMeta) {
	if cause, ok := d.GetMetadata().GetAnnotations()[ChangeCauseAnnotation]; ok {
		m.Annotations[ChangeCauseAnnotation] = cause
	}
}

// setDeploymentRevision writes rev into d's revision annotation.
func (c *Controller) setDeploymentRevision(ctx context.Context, d *appsv1.Deployment, rev int64) error {
	if Revision(d.GetMetadata()) == rev {
		return nil
	}
	upd := proto.Clone(d).(*appsv1.Deployment)
	if upd.Metadata.Annotations == nil {
		upd.Metadata.Annotations = map[string]string{}
	}
	upd.Metadata.Annotations[RevisionAnnotation] = strconv.FormatInt(rev, 10)
	if _, err := c.cs.Deployments().Update(ctx, upd); err != nil {
		return fmt.Errorf("deployment %s: revision annotation: %w", d.GetMetadata().GetName(), err)
	}
	return nil
}

func (c *Controller) bumpCollisions(ctx context.Context, d *appsv1.Deployment) error {
	upd := proto.Clone(d).(*appsv1.Deployment)
	if upd.Status == nil {
		upd.Status = &appsv1.DeploymentStatus{}
	}
	upd.Status.CollisionCount = proto.Int32(d.GetStatus().GetCollisionCount() + 1)
	if _, err := c.cs.Deployments().UpdateStatus(ctx, upd); err != nil {
		return fmt.Errorf("deployment %s: collision count: %w", d.GetMetadata().GetName(), err)
	}
	return fmt.Errorf("deployment %s: replicaset name collision, retrying with collision count %d", d.GetMetadata().GetName(), upd.Status.GetCollisionCount())
}

// scale sets a ReplicaSet's replicas and returns it as stored.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, n int32) (*appsv1.ReplicaSet, error) {
	old := rs.GetSpec().GetReplicas()
	if old == n {
		return rs, nil
	}
	upd := proto.Clone(rs).(*appsv1.ReplicaSet)
	upd.Spec.Replicas = proto.Int32(n)
	if upd.Metadata.Annotations == nil {
		upd.Metadata.Annotations = map[string]string{}
	}
	upd.Metadata.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(d.GetSpec().GetReplicas()))
	out, err := c.cs.ReplicaSets().Update(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: scale replicaset %s to %d: %w", d.GetMetadata().GetName(), rs.GetMetadata().GetName(), n, err)
	}
	c.written(out)
	verb := "up"
	if n < old {
		verb = "down"
	}
	c.events.Eventf(ref(d), record.Normal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", verb, rs.GetMetadata().GetName(), old, n)
	return out, nil
}
