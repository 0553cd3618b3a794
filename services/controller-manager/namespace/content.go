package namespace

import (
	"context"
	"errors"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// content is one kind of object a namespace holds.
type content struct {
	name string
	// cached: purge reads the kind's shared informer, whose delete
	// events requeue the namespace; otherwise it lists the apiserver.
	cached bool
	// purge deletes every object of the kind in a namespace and returns
	// how many were still there.
	purge func(ctx context.Context, namespace string) (int, error)
	// count asks the apiserver how many there are.
	count func(ctx context.Context, namespace string) (int, error)
}

type object interface{ GetMetadata() *metav1.ObjectMeta }

type client[T object, L interface{ GetItems() []T }] interface {
	List(ctx context.Context, in *metav1.ListOptions, opts ...grpc.CallOption) (L, error)
	Delete(ctx context.Context, in *metav1.DeleteOptions, opts ...grpc.CallOption) (T, error)
}

// kind is a kind without an informer: listed from the apiserver.
func kind[T object, L interface{ GetItems() []T }](name string, c client[T, L]) content {
	count := func(ctx context.Context, ns string) ([]T, error) {
		l, err := c.List(ctx, &metav1.ListOptions{Namespace: ns})
		if err != nil {
			return nil, err
		}
		return l.GetItems(), nil
	}
	return content{name: name,
		purge: func(ctx context.Context, ns string) (int, error) {
			items, err := count(ctx, ns)
			if err != nil {
				return 0, err
			}
			return len(items), deleteAll(ctx, c, ns, items)
		},
		count: func(ctx context.Context, ns string) (int, error) {
			items, err := count(ctx, ns)
			return len(items), err
		},
	}
}

// cachedKind is a kind with a shared informer: purged from its cache,
// and its delete events call deleted.
func cachedKind[T informer.Object, L interface{ GetItems() []T }](name string, c client[T, L], inf *informer.Informer[T], deleted func(*metav1.ObjectMeta)) content {
	lister := inf.Lister()
	inf.AddHandler(informer.HandlerFuncs[T]{DeleteFunc: func(o T) { deleted(o.GetMetadata()) }})
	k := kind(name, c)
	k.cached = true
	k.purge = func(ctx context.Context, ns string) (int, error) {
		items := lister.ListNamespace(ns, nil)
		return len(items), deleteAll(ctx, c, ns, items)
	}
	return k
}

// deleteAll deletes the items not being deleted yet, in the background
// (their dependents go by the garbage collector).
func deleteAll[T object, L interface{ GetItems() []T }](ctx context.Context, c client[T, L], ns string, items []T) error {
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
	return errors.Join(errs...)
}

// contents lists the namespaced kinds, controllers first so that they do
// not replace what is being deleted.
func contents(cs *clientset.Set, caches Caches, deleted func(*metav1.ObjectMeta)) []content {
	return []content{
		cachedKind("cronjobs", cs.CronJobs(), caches.CronJobs, deleted),
		cachedKind("deployments", cs.Deployments(), caches.Deployments, deleted),
		cachedKind("jobs", cs.Jobs(), caches.Jobs, deleted),
		cachedKind("replicasets", cs.ReplicaSets(), caches.ReplicaSets, deleted),
		cachedKind("pods", cs.Pods(), caches.Pods, deleted),
		kind("services", cs.Services()),
		kind("endpoints", cs.Endpoints()),
		kind("configmaps", cs.ConfigMaps()),
		kind("secrets", cs.Secrets()),
		kind("serviceaccounts", cs.ServiceAccounts()),
		kind("leases", cs.Leases()),
		kind("rolebindings", cs.RoleBindings()),
		kind("roles", cs.Roles()),
		kind("events", cs.Events()),
	}
}
