// Package namespace is the namespace controller: a namespace being
// deleted (Terminating, with the "kubernetes" finalizer in its spec) has
// everything in it deleted, and once nothing is left the finalizer is
// removed, which lets the apiserver remove the namespace. Kinds with a
// shared informer are deleted from its cache, and their delete events
// bring the namespace back; the others are listed from the apiserver,
// rechecked with a back-off while some remain. Before the finalizer goes
// the apiserver confirms every kind is empty.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "namespace"

// Finalizer is the namespace finalizer this controller owns.
const Finalizer = "kubernetes"

// The back-off of a namespace whose listed (uncached) content is still
// going: from minRecheck, doubling, to maxRecheck.
const (
	minRecheck = time.Second
	maxRecheck = time.Minute
)

// Caches are the shared informers of the namespaced kinds that have one.
type Caches struct {
	CronJobs    *informer.Informer[*batchv1.CronJob]
	Deployments *informer.Informer[*appsv1.Deployment]
	Jobs        *informer.Informer[*batchv1.Job]
	ReplicaSets *informer.Informer[*appsv1.ReplicaSet]
	Pods        *informer.Informer[*corev1.Pod]
}

// Controller is the namespace controller.
type Controller struct {
	*controller.Loop
	cs      *clientset.Set
	ns      informer.Lister[*corev1.Namespace]
	content []content
	events  *record.Recorder
	log     *zap.Logger

	mu      sync.Mutex
	backoff map[string]time.Duration
}

// New returns the controller, fed by the Namespace informer and the
// informers of caches.
func New(cs *clientset.Set, namespaces *informer.Informer[*corev1.Namespace], caches Caches, events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, ns: namespaces.Lister(), events: events, log: log, backoff: map[string]time.Duration{}}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	c.content = contents(cs, caches, c.objectDeleted)
	enqueue := func(n *corev1.Namespace) {
		if n.GetMetadata().GetDeletionTimestamp() != nil {
			c.Enqueue(n.GetMetadata().GetName())
		}
	}
	namespaces.AddHandler(informer.HandlerFuncs[*corev1.Namespace]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, n *corev1.Namespace) { enqueue(n) },
		DeleteFunc: func(n *corev1.Namespace) { c.resetBackoff(n.GetMetadata().GetName()) },
	})
	return c, nil
}

// objectDeleted brings back the namespace of a deleted object if it is
// being deleted: what it waited for may be gone.
func (c *Controller) objectDeleted(m *metav1.ObjectMeta) {
	if n, ok := c.ns.Get("", m.GetNamespace()); ok && n.GetMetadata().GetDeletionTimestamp() != nil {
		c.Enqueue(m.GetNamespace())
	}
}

func (c *Controller) sync(ctx context.Context, name string) error {
	n, ok := c.ns.Get("", name)
	if !ok || n.GetMetadata().GetDeletionTimestamp() == nil || !slices.Contains(n.GetSpec().GetFinalizers(), Finalizer) {
		c.resetBackoff(name)
		return nil
	}
	var (
		left   []string
		listed bool // some of what is left is of a kind without a cache
		errs   []error
	)
	for _, k := range c.content {
		n, err := k.purge(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k.name, err))
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d %s", n, k.name))
			listed = listed || !k.cached
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.events.Eventf(ref(n), record.Warning, "NamespaceDeletionContentFailure", "Failed to delete some content: %v", err)
		return fmt.Errorf("namespace %s: delete content: %w", name, err)
	}
	if len(left) == 0 {
		// The caches may lag: the apiserver confirms the cached kinds
		// are empty too.
		for _, k := range c.content {
			if !k.cached {
				continue
			}
			cnt, err := k.count(ctx, name)
			if err != nil {
				return fmt.Errorf("namespace %s: confirm %s are gone: %w", name, k.name, err)
			}
			if cnt > 0 {
				left = append(left, fmt.Sprintf("%d %s (not cached yet)", cnt, k.name))
				listed = true
			}
		}
	}
	if len(left) > 0 {
		c.log.Debug("namespace content remaining", zap.String("namespace", name), zap.String("left", strings.Join(left, ", ")))
		if listed {
			c.EnqueueAfter(name, c.nextBackoff(name))
		}
		// Otherwise the informers' delete events bring it back.
		return nil
	}
	upd := proto.Clone(n).(*corev1.Namespace)
	upd.Spec.Finalizers = slices.DeleteFunc(upd.Spec.Finalizers, func(f string) bool { return f == Finalizer })
	if _, err := c.cs.Namespaces().Update(ctx, upd); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("namespace %s: remove finalizer: %w", name, err)
	}
	c.resetBackoff(name)
	c.log.Info("namespace emptied", zap.String("namespace", name))
	return nil
}

// nextBackoff is how long until namespace is listed again.
func (c *Controller) nextBackoff(namespace string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.backoff[namespace]
	if d == 0 {
		d = minRecheck
	}
	c.backoff[namespace] = min(2*d, maxRecheck)
	return d
}

func (c *Controller) resetBackoff(namespace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.backoff, namespace)
}

func ref(n *corev1.Namespace) *corev1.ObjectReference {
	return &corev1.ObjectReference{ApiVersion: "v1", Kind: "Namespace", Name: n.GetMetadata().GetName(), Uid: n.GetMetadata().GetUid()}
}
