// Package replicaset is the ReplicaSet controller: it creates and deletes
// pods so that a ReplicaSet has spec.replicas of them, owns them through a
// controller ownerReference, adopts orphans its selector matches and
// releases pods that no longer match, and reports replicas, ready and
// available counts in its status.
package replicaset

import (
	"context"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/labels"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "replicaset"

// burst bounds the pods one sync creates or deletes.
const burst = 500

// Controller is the ReplicaSet controller.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	rss    informer.Lister[*appsv1.ReplicaSet]
	pods   informer.Lister[*corev1.Pod]
	events *record.Recorder
	exp    *controller.Expectations
	log    *zap.Logger
	now    func() time.Time
}

// New returns the controller, fed by the ReplicaSet and Pod informers.
func New(cs *clientset.Set, rss *informer.Informer[*appsv1.ReplicaSet], pods *informer.Informer[*corev1.Pod],
	events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, rss: rss.Lister(), pods: pods.Lister(), events: events, exp: controller.NewExpectations(), log: log, now: time.Now}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	rss.AddHandler(informer.HandlerFuncs[*appsv1.ReplicaSet]{
		AddFunc:    func(rs *appsv1.ReplicaSet) { c.Enqueue(controller.Key(rs.GetMetadata())) },
		UpdateFunc: func(_, rs *appsv1.ReplicaSet) { c.Enqueue(controller.Key(rs.GetMetadata())) },
		DeleteFunc: func(rs *appsv1.ReplicaSet) {
			c.exp.Forget(controller.Key(rs.GetMetadata()))
			c.Enqueue(controller.Key(rs.GetMetadata()))
		},
	})
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc: func(p *corev1.Pod) { c.podChanged(p, true, false) },
		UpdateFunc: func(old, p *corev1.Pod) {
			if ref, oldRef := controller.ControllerRef(p.GetMetadata()), controller.ControllerRef(old.GetMetadata()); oldRef != nil && (ref == nil || ref.GetUid() != oldRef.GetUid()) {
				c.podChanged(old, false, false)
			}
			// A pod marked for deletion is as good as gone to its owner.
			c.podChanged(p, false, p.GetMetadata().GetDeletionTimestamp() != nil && old.GetMetadata().GetDeletionTimestamp() == nil)
		},
		DeleteFunc: func(p *corev1.Pod) { c.podChanged(p, false, true) },
	})
	return c, nil
}

// podChanged queues the pod's owning ReplicaSet, or for an orphan every
// ReplicaSet that could adopt it, and settles the owner's expectations.
func (c *Controller) podChanged(p *corev1.Pod, added, deleted bool) {
	m := p.GetMetadata()
	if ref := controller.ControllerRef(m); ref != nil {
		if ref.GetKind() != "ReplicaSet" {
			return
		}
		key := m.GetNamespace() + "/" + ref.GetName()
		if added {
			c.exp.CreationObserved(key)
		}
		if deleted {
			c.exp.DeletionObserved(key, m.GetUid())
		}
		c.Enqueue(key)
		return
	}
	if deleted {
		return
	}
	for _, rs := range c.rss.ListNamespace(m.GetNamespace(), nil) {
		if sel, err := selector.FromLabelSelector(rs.GetSpec().GetSelector()); err == nil && !sel.Empty() && sel.Matches(labels.Set(m.GetLabels())) {
			c.Enqueue(controller.Key(rs.GetMetadata()))
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	rs, ok := c.rss.Get(ns, name)
	if !ok {
		c.exp.Forget(key)
		return nil
	}
	sel, err := selector.FromLabelSelector(rs.GetSpec().GetSelector())
	if err != nil {
		return fmt.Errorf("replicaset %s: selector: %w", key, err)
	}
	pods, err := c.claim(ctx, rs, sel)
	if err != nil {
		return err
	}
	var active []*corev1.Pod
	for _, p := range pods {
		if controller.Active(p) {
			active = append(active, p)
		}
	}
	var manageErr error
	if c.exp.Satisfied(key) && rs.GetMetadata().GetDeletionTimestamp() == nil {
		// The status counts the pods left: those being deleted do not
		// count, and a Deployment waits on that count before it grows
		// the new ReplicaSet into their room.
		active, manageErr = c.manage(ctx, rs, active)
	}
	if err := c.updateStatus(ctx, rs, active); err != nil {
		return err
	}
	return manageErr
}
