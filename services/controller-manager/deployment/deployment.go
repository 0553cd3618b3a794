// Package deployment is the Deployment controller: it owns one
// ReplicaSet per pod template (labelled pod-template-hash), rolls from the
// old ones to the new one by RollingUpdate (maxSurge, maxUnavailable) or
// Recreate, numbers them with the deployment.kubernetes.io/revision
// annotation, keeps revisionHistoryLimit old ones, honours pause, and
// reports counts and the Progressing and Available conditions.
//
// Rolling back is writing an old ReplicaSet's template into the
// Deployment (client/rollout does it): the controller then finds that
// ReplicaSet again and gives it the next revision.
package deployment

import (
	"context"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/client/rollout"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/labels"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "deployment"

// Annotations and labels of the rollout machinery (Kubernetes' own).
const (
	RevisionAnnotation        = rollout.RevisionAnnotation
	RevisionHistoryAnnotation = rollout.RevisionHistoryAnnotation
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	ChangeCauseAnnotation     = rollout.ChangeCauseAnnotation
	HashLabel                 = rollout.HashLabel
)

// Controller is the Deployment controller.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	deps   informer.Lister[*appsv1.Deployment]
	rss    informer.Lister[*appsv1.ReplicaSet]
	pods   informer.Lister[*corev1.Pod]
	events *record.Recorder
	log    *zap.Logger
	now    func() time.Time
	writes writes
}

// New returns the controller, fed by the Deployment, ReplicaSet and Pod
// informers.
func New(cs *clientset.Set, deps *informer.Informer[*appsv1.Deployment], rss *informer.Informer[*appsv1.ReplicaSet],
	pods *informer.Informer[*corev1.Pod], events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, deps: deps.Lister(), rss: rss.Lister(), pods: pods.Lister(), events: events, log: log, now: time.Now}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(d *appsv1.Deployment) { c.Enqueue(controller.Key(d.GetMetadata())) }
	deps.AddHandler(informer.HandlerFuncs[*appsv1.Deployment]{AddFunc: enqueue, UpdateFunc: func(_, d *appsv1.Deployment) { enqueue(d) }, DeleteFunc: enqueue})
	rss.AddHandler(informer.HandlerFuncs[*appsv1.ReplicaSet]{
		AddFunc:    c.rsChanged,
		UpdateFunc: func(_, rs *appsv1.ReplicaSet) { c.rsChanged(rs) },
		DeleteFunc: c.rsChanged,
	})
	// A Recreate rollout waits for the old pods to be gone.
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{DeleteFunc: c.podDeleted})
	return c, nil
}

// rsChanged queues the ReplicaSet's owner, or for an orphan every
// Deployment whose selector matches it.
func (c *Controller) rsChanged(rs *appsv1.ReplicaSet) {
	m := rs.GetMetadata()
	if ref := controller.ControllerRef(m); ref != nil {
		if ref.GetKind() == "Deployment" {
			c.Enqueue(m.GetNamespace() + "/" + ref.GetName())
		}
		return
	}
	for _, d := range c.deps.ListNamespace(m.GetNamespace(), nil) {
		if sel, err := selector.FromLabelSelector(d.GetSpec().GetSelector()); err == nil && !sel.Empty() && sel.Matches(labels.Set(m.GetLabels())) {
			c.Enqueue(controller.Key(d.GetMetadata()))
		}
	}
}

func (c *Controller) podDeleted(p *corev1.Pod) {
	ref := controller.ControllerRef(p.GetMetadata())
	if ref == nil || ref.GetKind() != "ReplicaSet" {
		return
	}
	rs, ok := c.rss.Get(p.GetMetadata().GetNamespace(), ref.GetName())
	if !ok {
		return
	}
	if dref := controller.ControllerRef(rs.GetMetadata()); dref != nil && dref.GetKind() == "Deployment" {
		c.Enqueue(p.GetMetadata().GetNamespace() + "/" + dref.GetName())
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	d, ok := c.deps.Get(ns, name)
	if !ok {
		return nil
	}
	sel, err := selector.FromLabelSelector(d.GetSpec().GetSelector())
	if err != nil {
		return fmt.Errorf("deployment %s: selector: %w", key, err)
	}
	if sel.Empty() {
		c.events.Event(ref(d), record.Warning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		return nil
	}
	rss, err := c.claim(ctx, d, sel)
	if err != nil {
		return err
	}
	if c.stale(rss) {
		return nil
	}
	if d.GetMetadata().GetDeletionTimestamp() != nil {
		return c.syncStatus(ctx, d, findNew(d, rss), rss)
	}
	if d.GetSpec().GetPaused() {
		return c.syncPaused(ctx, d, rss)
	}
	if d.GetSpec().GetStrategy().GetType() == "Recreate" {
		return c.recreate(ctx, d, rss)
	}
	return c.rollingUpdate(ctx, d, rss)
}

func ref(d *appsv1.Deployment) *corev1.ObjectReference {
	m := d.GetMetadata()
	return &corev1.ObjectReference{ApiVersion: "apps/v1", Kind: "Deployment", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}
