// Package registry implements the API verbs once for every kind: it turns
// objects into stored bytes and back, manages server-owned metadata (uid,
// timestamps, generation, resourceVersion, graceful deletion and finalizers),
// applies defaulting, validation and selectors, and maps storage errors to API
// errors. Per-kind behaviour is a small set of hooks (hooks.go, pod.go,
// namespace.go).
package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"github.com/tugboat-sh/tugboat/services/apiserver/watchcache"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// MaxObjectBytes is the largest object the store accepts, as Kubernetes' etcd limit.
const MaxObjectBytes = 1572864

// Registry holds one Resource per kind.
type Registry struct {
	store     *storage.Store
	resources map[string]*Resource
	caches    map[string]*watchcache.Cache
	metrics   *Metrics
	opts      Options
}

// Options tune every resource.
type Options struct {
	// BookmarkInterval is how often watches that allow bookmarks get one;
	// 0 means a minute.
	BookmarkInterval time.Duration
	// WatchCacheSize is how many recent events each resource's watch cache
	// keeps; 0 means the watchcache default.
	WatchCacheSize int
	// Logger receives the watch caches' problems; nil means none.
	Logger *zap.Logger
	// Allocators, by resource ("services"), reserve what objects hold
	// outside their own key; nil allocates nothing.
	Allocators map[string]Allocator
	// Admission, by resource ("nodes"), checks a create (cur nil) or an
	// update with the request's context, after defaulting and before
	// validation; its error is returned as is.
	Admission map[string]Admit
}

// Admit is an admission check of a write: cur is nil on create.
type Admit func(ctx context.Context, cur, next proto.Message) error

// New builds the registry of every kind in the scheme.
func New(store *storage.Store, metrics *Metrics, opts Options) *Registry {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	if opts.BookmarkInterval <= 0 {
		opts.BookmarkInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	r := &Registry{store: store, resources: map[string]*Resource{}, metrics: metrics, opts: opts}
	for _, k := range scheme.All() {
		r.resources[k.Resource] = &Resource{Kind: k, reg: r, hooks: hooksFor(k.Kind), alloc: opts.Allocators[k.Resource], admit: opts.Admission[k.Resource]}
		metrics.watches.WithLabelValues(k.Resource)
	}
	r.newCaches()
	return r
}

// Resource returns the resource by plural name; it panics on an unknown name,
// which is a programming error.
func (r *Registry) Resource(name string) *Resource {
	res, ok := r.resources[name]
	if !ok {
		panic(fmt.Sprintf("registry: unknown resource %q", name))
	}
	return res
}

// Resources returns every resource.
func (r *Registry) Resources() []*Resource {
	out := make([]*Resource, 0, len(r.resources))
	for _, k := range scheme.All() {
		out = append(out, r.resources[k.Resource])
	}
	return out
}

// Resource is the verbs of one kind. The objects its verbs return may be
// shared with the watch cache: callers must not modify them.
type Resource struct {
	Kind  scheme.Kind
	reg   *Registry
	hooks hooks
	alloc Allocator
	admit Admit
}

// key is the etcd key of an object.
func (r *Resource) key(namespace, name string) string {
	if r.Kind.Namespaced {
		return "/registry/" + r.Kind.Resource + "/" + namespace + "/" + name
	}
	return "/registry/" + r.Kind.Resource + "/" + name
}

// prefix is the etcd prefix of a namespace's objects, or of all of them.
func (r *Resource) prefix(namespace string) string {
	if r.Kind.Namespaced && namespace != "" {
		return "/registry/" + r.Kind.Resource + "/" + namespace + "/"
	}
	return "/registry/" + r.Kind.Resource + "/"
}

// decode turns stored bytes into an object carrying its resourceVersion.
func (r *Resource) decode(value []byte, rev int64) (proto.Message, error) {
	obj := r.Kind.New()
	if err := proto.Unmarshal(value, obj); err != nil {
		return nil, apierr.Internal(fmt.Errorf("decode %s: %w", r.Kind.Resource, err))
	}
	objectMeta(obj).ResourceVersion = strconv.FormatInt(rev, 10)
	setTypeMeta(obj, r.Kind.APIVersion(), r.Kind.Kind)
	return obj, nil
}

// encode turns an object into stored bytes; the resourceVersion is not stored.
func (r *Resource) encode(obj proto.Message) ([]byte, error) {
	meta := objectMeta(obj)
	rv := meta.ResourceVersion
	meta.ResourceVersion = ""
	setTypeMeta(obj, r.Kind.APIVersion(), r.Kind.Kind)
	data, err := proto.Marshal(obj)
	meta.ResourceVersion = rv
	if err != nil {
		return nil, apierr.Internal(fmt.Errorf("encode %s: %w", r.Kind.Resource, err))
	}
	if len(data) > MaxObjectBytes {
		return nil, apierr.TooLarge("%s %q is too large: %d bytes exceeds the limit of %d bytes", r.Kind.Resource, meta.Name, len(data), MaxObjectBytes)
	}
	return data, nil
}

// storageError maps a storage error about one object to an API error.
func (r *Resource) storageError(err error, name string) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apierr.NotFound(r.Kind.Resource, name)
	case errors.Is(err, storage.ErrExists):
		return apierr.AlreadyExists(r.Kind.Resource, name)
	case errors.Is(err, storage.ErrConflict):
		return apierr.StaleWrite(r.Kind.Resource, name)
	case errors.Is(err, storage.ErrCompacted):
		return apierr.Gone("The resourceVersion for the provided list is too old.")
	case errors.Is(err, storage.ErrContinue):
		return apierr.BadRequest("invalid continue token: %v", err)
	}
	return err
}

// get reads the current object and its revision.
func (r *Resource) get(ctx context.Context, namespace, name string) (proto.Message, int64, error) {
	kv, err := r.reg.store.Get(ctx, r.Kind.Resource, r.key(namespace, name), false)
	if err != nil {
		return nil, 0, r.storageError(err, name)
	}
	obj, err := r.decode(kv.Value, kv.ModRevision)
	return obj, kv.ModRevision, err
}

// Get returns one object.
func (r *Resource) Get(ctx context.Context, opts *metav1.GetOptions) (proto.Message, error) {
	ns, err := r.namespaceOf(opts.GetNamespace())
	if err != nil {
		return nil, err
	}
	if opts.GetName() == "" {
		return nil, apierr.BadRequest("resource name may not be empty")
	}
	obj, _, err := r.get(ctx, ns, opts.GetName())
	return obj, err
}

// namespaceOf checks the namespace a request names: required for namespaced
// kinds (an empty one means "default"), ignored for cluster-scoped ones.
func (r *Resource) namespaceOf(ns string) (string, error) {
	if !r.Kind.Namespaced {
		return "", nil
	}
	if ns == "" {
		return "default", nil
	}
	return ns, nil
}
