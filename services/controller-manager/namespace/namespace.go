// Package namespace is the namespace controller: a namespace being
// deleted (Terminating, with the "kubernetes" finalizer in its spec) has
// everything in it deleted, and once nothing is left the finalizer is
// removed, which lets the apiserver remove the namespace.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "namespace"

// Finalizer is the namespace finalizer this controller owns.
const Finalizer = "kubernetes"

// recheck is how soon a namespace whose content is still going is looked
// at again.
const recheck = time.Second

// Controller is the namespace controller.
type Controller struct {
	*controller.Loop
	cs      *clientset.Set
	ns      informer.Lister[*corev1.Namespace]
	content []content
	events  *record.Recorder
	log     *zap.Logger
}

// New returns the controller, fed by the Namespace informer.
func New(cs *clientset.Set, namespaces *informer.Informer[*corev1.Namespace], events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, ns: namespaces.Lister(), content: contents(cs), events: events, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(n *corev1.Namespace) {
		if n.GetMetadata().GetDeletionTimestamp() != nil {
			c.Enqueue(n.GetMetadata().GetName())
		}
	}
	namespaces.AddHandler(informer.HandlerFuncs[*corev1.Namespace]{AddFunc: enqueue, UpdateFunc: func(_, n *corev1.Namespace) { enqueue(n) }})
	return c, nil
}

func (c *Controller) sync(ctx context.Context, name string) error {
	n, ok := c.ns.Get("", name)
	if !ok || n.GetMetadata().GetDeletionTimestamp() == nil || !slices.Contains(n.GetSpec().GetFinalizers(), Finalizer) {
		return nil
	}
	var (
		left []string
		errs []error
	)
	for _, k := range c.content {
		n, err := k.purge(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k.name, err))
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d %s", n, k.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.events.Eventf(ref(n), record.Warning, "NamespaceDeletionContentFailure", "Failed to delete some content: %v", err)
		return fmt.Errorf("namespace %s: delete content: %w", name, err)
	}
	if len(left) > 0 {
		c.log.Debug("namespace content remaining", zap.String("namespace", name), zap.String("left", strings.Join(left, ", ")))
		c.EnqueueAfter(name, recheck)
		return nil
	}
	upd := proto.Clone(n).(*corev1.Namespace)
	upd.Spec.Finalizers = slices.DeleteFunc(upd.Spec.Finalizers, func(f string) bool { return f == Finalizer })
	if _, err := c.cs.Namespaces().Update(ctx, upd); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("namespace %s: remove finalizer: %w", name, err)
	}
	c.log.Info("namespace emptied", zap.String("namespace", name))
	return nil
}

// content is one kind of object a namespace holds.
type content struct {
	name string
	// purge deletes every object of the kind in a namespace and returns
	// how many were still there.
	purge func(ctx context.Context, namespace string) (int, error)
}

type lister[T interface{ GetMetadata() *metav1.ObjectMeta }, L interface{ GetItems() []T }] interface {
	List(ctx context.Context, in *metav1.ListOptions, opts ...grpc.CallOption) (L, error)
	Delete(ctx context.Context, in *metav1.DeleteOptions, opts ...grpc.CallOption) (T, error)
}

func kind[T interface{ GetMetadata() *metav1.ObjectMeta }, L interface{ GetItems() []T }](name string, c lister[T, L]) content {
	return content{name: name, purge: func(ctx context.Context, ns string) (int, error) {
		l, err := c.List(ctx, &metav1.ListOptions{Namespace: ns})
		if err != nil {
			return 0, err
		}
		items := l.GetItems()
		var errs []error
		policy := "Background"
		for _, o := range items {
			m := o.GetMetadata()
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			_, err := c.Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: m.GetName(), PropagationPolicy: &policy})
			if err != nil && status.Code(err) != codes.NotFound {
				errs = append(errs, err)
			}
		}
		return len(items), errors.Join(errs...)
	}}
}

// contents lists the namespaced kinds, controllers first so that they do
// not replace what is being deleted.
func contents(cs *clientset.Set) []content {
	return []content{
		kind("cronjobs", cs.CronJobs()),
		kind("deployments", cs.Deployments()),
		kind("jobs", cs.Jobs()),
		kind("replicasets", cs.ReplicaSets()),
		kind("pods", cs.Pods()),
		kind("services", cs.Services()),
		kind("endpoints", cs.Endpoints()),
		kind("configmaps", cs.ConfigMaps()),
		kind("secrets", cs.Secrets()),
		kind("leases", cs.Leases()),
		kind("events", cs.Events()),
	}
}

func ref(n *corev1.Namespace) *corev1.ObjectReference {
	return &corev1.ObjectReference{ApiVersion: "v1", Kind: "Namespace", Name: n.GetMetadata().GetName(), Uid: n.GetMetadata().GetUid()}
}
