// Package objects is the kubelet's view of the secrets and config maps its
// pods use, as Kubernetes' watch-based manager keeps it: each object a pod
// references is listed and watched by name (its namespace, field selector
// metadata.name=<name>), counted by the pods that use it, and its watch
// stopped when the last of them goes. That is all the node authoriser lets
// a kubelet read; nothing is listed cluster-wide.
package objects

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	"go.uber.org/zap"
)

// SyncWait bounds how long Get waits for a just-registered object's first
// list before it answers "not found" (the watch's first event requeues the
// pod anyway). Get does not wait when the store is not running or the
// object is unregistered meanwhile.
const SyncWait = 5 * time.Second

// Key names one object.
type Key struct{ Namespace, Name string }

// NewInformer makes the informer of one object from these options
// (Namespace and FieldSelector set).
type NewInformer[T informer.Object] func(informer.Options) *informer.Informer[T]

// Store watches the objects of one kind that registered pods reference.
// It is safe for concurrent use; Run starts the watches.
type Store[T informer.Object] struct {
	kind     string
	newInf   NewInformer[T]
	log      *zap.Logger
	onChange []func(Key)

	running chan struct{} // closed once Run has started

	mu    sync.Mutex
	ctx   context.Context // set by Run; nil before
	done  bool            // Run has ended: no more watches
	items map[Key]*item[T]
	pods  map[string][]Key // pod UID -> the keys it registered
	wg    sync.WaitGroup
}

// item is one object's watch and the number of pods using it.
type item[T informer.Object] struct {
	inf     *informer.Informer[T]
	ctx     context.Context // the watch's; ends when it stops
	cancel  context.CancelFunc
	refs    int
	started bool
}

// New returns a Store of kind ("Secret", "ConfigMap": for logs) whose
// watches newInf makes.
func New[T informer.Object](kind string, newInf NewInformer[T], log *zap.Logger) *Store[T] {
	if log == nil {
		log = zap.NewNop()
	}
	return &Store[T]{kind: kind, newInf: newInf, log: log, running: make(chan struct{}), items: map[Key]*item[T]{}, pods: map[string][]Key{}}
}

// WaitRunning blocks until Run has started (Get waits for a first list
// only then) or ctx ends, and reports whether it has.
func (s *Store[T]) WaitRunning(ctx context.Context) bool {
	select {
	case <-s.running:
		return true
	case <-ctx.Done():
		return false
	}
}

// OnChange calls fn, from the watch's goroutine, when a watched object is
// added (also by the first list), changed or deleted. Call it before Run.
func (s *Store[T]) OnChange(fn func(Key)) { s.onChange = append(s.onChange, fn) }

// Run starts the watches registered so far and those registered later,
// and stops them all when ctx ends. It may be called once.
func (s *Store[T]) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	for k, it := range s.items {
		s.start(k, it)
	}
	s.mu.Unlock()
	close(s.running)
	<-ctx.Done()
	s.mu.Lock()
	s.done = true
	for _, it := range s.items {
		if it.cancel != nil {
			it.cancel()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Set makes keys the objects pod (a UID) uses: watches start for new
// ones, and those no other pod uses any more stop.
func (s *Store[T]) Set(pod string, keys []Key) {
	keys = dedup(keys)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.pods[pod]
	for _, k := range keys {
		if !slices.Contains(old, k) {
			s.ref(k)
		}
	}
	for _, k := range old {
		if !slices.Contains(keys, k) {
			s.unref(k)
		}
	}
	if len(keys) == 0 {
		delete(s.pods, pod)
	} else {
		s.pods[pod] = keys
	}
}

// Forget drops everything pod registered.
func (s *Store[T]) Forget(pod string) { s.Set(pod, nil) }

// Get returns the object, waiting up to SyncWait for the first list of a
// watch that has just started. An object no registered pod uses is not
// watched, and not found; so is one whose watch is not running (the store
// is not running) or stops while Get waits (the last pod using it went):
// Get answers at once then.
func (s *Store[T]) Get(namespace, name string) (T, bool) {
	var zero T
	s.mu.Lock()
	it := s.items[Key{namespace, name}]
	var ctx context.Context
	if it != nil {
		ctx = it.ctx
	}
	s.mu.Unlock()
	if it == nil {
		return zero, false
	}
	if !it.inf.HasSynced() {
		if ctx == nil || ctx.Err() != nil { // not running: nothing will come
			return zero, false
		}
		wctx, cancel := context.WithTimeout(ctx, SyncWait)
		synced := it.inf.WaitForSync(wctx)
		cancel()
		if !synced {
			if ctx.Err() == nil {
				s.log.Warn("object not synced", zap.String("kind", s.kind), zap.String("namespace", namespace), zap.String("name", name))
			}
			return zero, false
		}
	}
	return it.inf.Lister().Get(namespace, name)
}

// Watching lists the keys being watched (for tests and debugging).
func (s *Store[T]) Watching() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Key, 0, len(s.items))
	for k := range s.items {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// ref counts one more pod for k, making its watch on the first. s.mu held.
func (s *Store[T]) ref(k Key) {
	if it := s.items[k]; it != nil {
		it.refs++
		return
	}
	inf := s.newInf(informer.Options{Namespace: k.Namespace, FieldSelector: "metadata.name=" + k.Name, Logger: s.log.With(zap.String("kind", s.kind), zap.String("namespace", k.Namespace), zap.String("name", k.Name))})
	notify := func() {
		for _, fn := range s.onChange {
			fn(k)
		}
	}
	inf.AddHandler(informer.HandlerFuncs[T]{
		AddFunc:    func(T) { notify() },
		UpdateFunc: func(_, _ T) { notify() },
		DeleteFunc: func(T) { notify() },
	})
	it := &item[T]{inf: inf, refs: 1}
	s.items[k] = it
	if s.ctx != nil {
		s.start(k, it)
	}
}

// unref counts one pod less for k, stopping its watch on the last. s.mu held.
func (s *Store[T]) unref(k Key) {
	it := s.items[k]
	if it == nil {
		return
	}
	if it.refs--; it.refs > 0 {
		return
	}
	delete(s.items, k)
	if it.cancel != nil {
		it.cancel()
	}
	s.log.Debug("object watch stopped", zap.String("kind", s.kind), zap.String("namespace", k.Namespace), zap.String("name", k.Name))
}

// start runs the item's watch under s.ctx. s.mu held.
func (s *Store[T]) start(k Key, it *item[T]) {
	if it.started || s.done {
		return
	}
	it.started = true
	ctx, cancel := context.WithCancel(s.ctx)
	it.ctx, it.cancel = ctx, cancel
	s.wg.Go(func() { it.inf.Run(ctx) })
	s.log.Debug("object watch started", zap.String("kind", s.kind), zap.String("namespace", k.Namespace), zap.String("name", k.Name))
}

func dedup(keys []Key) []Key {
	var out []Key
	for _, k := range keys {
		if k.Name != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
