// Package gc is the garbage collector: an object whose owners (by
// ownerReferences) are all gone is deleted, which cascades down the
// ownership graph (deleting a Deployment removes its ReplicaSets, then
// their pods). An owner deleted with propagationPolicy Foreground keeps
// its foregroundDeletion finalizer until its dependents are gone; one
// deleted with Orphan has its dependents' references to it removed
// before its orphan finalizer is.
package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "garbagecollector"

// Finalizers the collector acts on (set by the apiserver on delete).
const (
	FinalizerOrphan     = "orphan"
	FinalizerForeground = "foregroundDeletion"
)

// Collector is the garbage collector.
type Collector struct {
	*controller.Loop
	kinds  map[string]Kind // by kind name
	graph  *graph
	events *record.Recorder
	log    *zap.Logger
}

// New returns the collector over kinds; it adds handlers to their informers.
func New(kinds []Kind, events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Collector, error) {
	c := &Collector{kinds: map[string]Kind{}, graph: newGraph(), events: events, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	for _, k := range kinds {
		c.kinds[k.Kind] = k
		k.attach(func(added, deleted bool, m *metav1.ObjectMeta) { c.changed(k.Kind, deleted, m) })
	}
	return c, nil
}

func key(kind string, m *metav1.ObjectMeta) string {
	return kind + "|" + controller.Key(m)
}

func splitKey(k string) (kind, namespace, name string) {
	kind, rest, _ := strings.Cut(k, "|")
	if ns, n, ok := strings.Cut(rest, "/"); ok {
		return kind, ns, n
	}
	return kind, "", rest
}

// changed updates the graph and queues the object, its dependents when it
// is going, and its owners when it went (a foreground owner waits for it).
func (c *Collector) changed(kind string, deleted bool, m *metav1.ObjectMeta) {
	k := key(kind, m)
	if deleted {
		c.graph.remove(k, m)
	} else {
		c.graph.set(k, m)
	}
	if deleted || m.GetDeletionTimestamp() != nil {
		for _, d := range c.graph.dependentsOf(m.GetUid()) {
			c.Enqueue(d)
		}
	}
	if deleted {
		for _, r := range m.GetOwnerReferences() {
			if ok, found := c.graph.keyOf(r.GetUid()); found {
				c.Enqueue(ok)
			}
		}
		return
	}
	if len(m.GetOwnerReferences()) > 0 || m.GetDeletionTimestamp() != nil {
		c.Enqueue(k)
	}
}

func (c *Collector) sync(ctx context.Context, k string) error {
	kind, ns, name := splitKey(k)
	kd, ok := c.kinds[kind]
	if !ok {
		return nil
	}
	m, ok := kd.get(ns, name)
	if !ok {
		return nil
	}
	if m.GetDeletionTimestamp() != nil {
		return c.finalize(ctx, kd, m)
	}
	return c.collect(ctx, kd, m)
}

// collect deletes m when every owner it names is gone, and drops the
// references to the gone ones when some remain.
func (c *Collector) collect(ctx context.Context, kd Kind, m *metav1.ObjectMeta) error {
	refs := m.GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	var gone []string
	for _, r := range refs {
		absent, err := c.absent(ctx, m.GetNamespace(), r)
		if err != nil {
			return err
		}
		if absent {
			gone = append(gone, r.GetUid())
		}
	}
	switch {
	case len(gone) == 0:
		return nil
	case len(gone) < len(refs):
		return c.ignoreGone(kd.update(ctx, m.GetNamespace(), m.GetName(), func(meta *metav1.ObjectMeta) {
			meta.OwnerReferences = slices.DeleteFunc(meta.OwnerReferences, func(r *metav1.OwnerReference) bool { return slices.Contains(gone, r.GetUid()) })
		}), "drop gone owners of", kd, m)
	}
	policy := "Background"
	err := kd.del(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(), PropagationPolicy: &policy,
		Preconditions: &metav1.Preconditions{Uid: proto.String(m.GetUid())}})
	c.log.Debug("collected", zap.String("kind", kd.Kind), zap.String("object", controller.Key(m)))
	return c.ignoreGone(err, "delete", kd, m)
}

// absent reports whether the owner r of an object in namespace is gone:
// not in the cache, and not found (or another uid) on the apiserver. An
// owner of a kind the collector does not follow counts as present.
func (c *Collector) absent(ctx context.Context, namespace string, r *metav1.OwnerReference) (bool, error) {
	kd, ok := c.kinds[r.GetKind()]
	if !ok || group(kd.APIVersion) != group(r.GetApiVersion()) {
		return false, nil
	}
	if m, ok := kd.get(namespace, r.GetName()); ok && m.GetUid() == r.GetUid() {
		return false, nil
	}
	m, err := kd.live(ctx, namespace, r.GetName())
	switch {
	case status.Code(err) == codes.NotFound:
		return true, nil
	case err != nil:
		return false, fmt.Errorf("garbage collector: get owner %s %s: %w", r.GetKind(), r.GetName(), err)
	}
	return m.GetUid() != r.GetUid(), nil
}

// finalize acts on an object being deleted with the orphan or
// foregroundDeletion finalizer.
func (c *Collector) finalize(ctx context.Context, kd Kind, m *metav1.ObjectMeta) error {
	fins := m.GetFinalizers()
	switch {
	case slices.Contains(fins, FinalizerOrphan):
		for _, dk := range c.graph.dependentsOf(m.GetUid()) {
			dkind, dns, dname := splitKey(dk)
			dkd, ok := c.kinds[dkind]
			if !ok {
				continue
			}
			err := dkd.update(ctx, dns, dname, func(meta *metav1.ObjectMeta) { meta.OwnerReferences = controller.WithoutOwner(meta, m.GetUid()) })
			if err := c.ignoreGone(err, "orphan", dkd, &metav1.ObjectMeta{Namespace: dns, Name: dname}); err != nil {
				return err
			}
		}
		return c.removeFinalizer(ctx, kd, m, FinalizerOrphan)
	case slices.Contains(fins, FinalizerForeground):
		deps := c.graph.dependentsOf(m.GetUid())
		var errs []error
		for _, dk := range deps {
			dkind, dns, dname := splitKey(dk)
			dkd, ok := c.kinds[dkind]
			if !ok {
				continue
			}
			dm, ok := dkd.get(dns, dname)
			if !ok || dm.GetDeletionTimestamp() != nil {
				continue
			}
			policy := "Foreground"
			err := dkd.del(ctx, &metav1.DeleteOptions{Namespace: dns, Name: dname, PropagationPolicy: &policy,
				Preconditions: &metav1.Preconditions{Uid: proto.String(dm.GetUid())}})
			errs = append(errs, c.ignoreGone(err, "delete", dkd, dm))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if len(deps) > 0 {
			return nil // their deletion events requeue the owner
		}
		return c.removeFinalizer(ctx, kd, m, FinalizerForeground)
	}
	return nil
}

func (c *Collector) removeFinalizer(ctx context.Context, kd Kind, m *metav1.ObjectMeta, fin string) error {
	err := kd.update(ctx, m.GetNamespace(), m.GetName(), func(meta *metav1.ObjectMeta) {
		meta.Finalizers = slices.DeleteFunc(meta.Finalizers, func(f string) bool { return f == fin })
	})
	if err == nil {
		c.events.Eventf(&corev1.ObjectReference{ApiVersion: kd.APIVersion, Kind: kd.Kind, Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()},
			record.Normal, "DependentsHandled", "Removed finalizer %s", fin)
	}
	return c.ignoreGone(err, "remove finalizer "+fin+" of", kd, m)
}

// ignoreGone treats NotFound as done and wraps other errors (a conflict
// is retried with a fresher cache).
func (c *Collector) ignoreGone(err error, what string, kd Kind, m *metav1.ObjectMeta) error {
	switch status.Code(err) {
	case codes.OK, codes.NotFound:
		return nil
	}
	return fmt.Errorf("garbage collector: %s %s %s: %w", what, kd.Kind, controller.Key(m), err)
}
