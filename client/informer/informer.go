// Package informer keeps a local, watched copy of one kind of API object:
// it lists, then watches from the list's resourceVersion, applies events
// to an in-memory cache and calls handlers in order from one goroutine. It
// works with any kind's generated gRPC client through generics.
//
// Objects handed to handlers and returned by the Lister are shared with
// the cache: they must not be mutated; clone them (proto.Clone) first.
package informer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Object is an API object: a proto message with metadata.
type Object interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// List is the list message of a kind, e.g. *corev1.PodList.
type List[T any] interface {
	GetItems() []T
	GetMetadata() *metav1.ListMeta
}

// Event is a pointer to the watch event message of a kind, e.g.
// *corev1.PodWatchEvent.
type Event[E any, T any] interface {
	*E
	GetType() string
	GetObject() T
}

// Source is the List and Watch half of a generated client, e.g.
// corev1.PodServiceClient.
type Source[L any, E any] interface {
	List(ctx context.Context, in *metav1.ListOptions, opts ...grpc.CallOption) (L, error)
	Watch(ctx context.Context, in *metav1.ListOptions, opts ...grpc.CallOption) (grpc.ServerStreamingClient[E], error)
}

// Options select what an informer watches and how.
type Options struct {
	// Namespace limits the informer to one namespace; empty means all.
	Namespace     string
	LabelSelector string
	FieldSelector string
	// ResyncPeriod, when > 0, calls OnUpdate(obj, obj) for every cached
	// object each period so that handlers can re-check their state.
	ResyncPeriod time.Duration
	// PageSize is the List limit per page; 500 when zero.
	PageSize int32
	// Backoff paces retries after errors; DefaultBackoff fields when zero.
	Backoff Backoff
	// Logger receives errors and restarts; none when nil.
	Logger *zap.Logger
}

// Informer is a list+watch cache of objects of type T. Create it with New,
// add handlers, then Run it.
type Informer[T Object] struct {
	opts  Options
	log   *zap.Logger
	list  func(context.Context, *metav1.ListOptions) ([]T, *metav1.ListMeta, error)
	watch func(context.Context, *metav1.ListOptions) (func() (string, T, error), error)

	cache    *cache[T]
	notes    *notifyQueue[T]
	handlers []Handler[T]
	started  atomic.Bool
	synced   atomic.Bool
	syncedCh chan struct{}
}

// New returns an informer over src, a generated client such as
// corev1.PodServiceClient. The type arguments can be spelled out when
// inference fails: New[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent].
func New[T Object, L List[T], E any, PE Event[E, T]](src Source[L, E], opts Options) *Informer[T] {
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	opts.Backoff = opts.Backoff.withDefaults()
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Informer[T]{
		opts: opts,
		log:  log,
		list: func(ctx context.Context, o *metav1.ListOptions) ([]T, *metav1.ListMeta, error) {
			l, err := src.List(ctx, o)
			if err != nil {
				return nil, nil, err
			}
			return l.GetItems(), l.GetMetadata(), nil
		},
		watch: func(ctx context.Context, o *metav1.ListOptions) (func() (string, T, error), error) {
			s, err := src.Watch(ctx, o)
			if err != nil {
				return nil, err
			}
			return func() (string, T, error) {
				ev, err := s.Recv()
				if err != nil {
					var zero T
					return "", zero, err
				}
				pe := PE(ev)
				return pe.GetType(), pe.GetObject(), nil
			}, nil
		},
		cache:    newCache[T](),
		notes:    newNotifyQueue[T](),
		syncedCh: make(chan struct{}),
	}
}

// AddHandler registers h. It must be called before Run.
func (i *Informer[T]) AddHandler(h Handler[T]) {
	if i.started.Load() {
		panic("informer: AddHandler after Run")
	}
	i.handlers = append(i.handlers, h)
}

// Run lists, watches and dispatches to handlers until ctx ends. It may be
// called once.
func (i *Informer[T]) Run(ctx context.Context) {
	if !i.started.CompareAndSwap(false, true) {
		panic("informer: Run called twice")
	}
	var wg sync.WaitGroup
	wg.Go(func() { i.dispatch(ctx) })
	if i.opts.ResyncPeriod > 0 {
		wg.Go(func() { i.resyncLoop(ctx) })
	}
	i.reflect(ctx)
	wg.Wait()
}

// HasSynced reports whether the initial list has been delivered to the
// handlers.
func (i *Informer[T]) HasSynced() bool { return i.synced.Load() }

// WaitForSync blocks until HasSynced or ctx ends, and returns HasSynced.
func (i *Informer[T]) WaitForSync(ctx context.Context) bool {
	select {
	case <-i.syncedCh:
		return true
	case <-ctx.Done():
		return i.HasSynced()
	}
}

// Lister returns a reader of the informer's cache.
func (i *Informer[T]) Lister() Lister[T] { return Lister[T]{c: i.cache} }

// LastSyncResourceVersion returns the resourceVersion the cache reflects.
func (i *Informer[T]) LastSyncResourceVersion() string { return i.cache.resourceVersion() }

// resyncLoop queues OnUpdate(obj, obj) for every cached object each period.
func (i *Informer[T]) resyncLoop(ctx context.Context) {
	t := time.NewTicker(i.opts.ResyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if i.HasSynced() {
				i.cache.resync(i.notes)
			}
		}
	}
}
