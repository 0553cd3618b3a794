package informer

import (
	"strings"
	"sync"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Key returns the cache key of an object: "namespace/name", or "name" for
// cluster-scoped objects.
func Key(m *metav1.ObjectMeta) string {
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}

// SplitKey is the inverse of Key.
func SplitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// cache is the informer's store. Every change is applied and its note
// queued under one lock, so the notes are in the cache's order.
type cache[T Object] struct {
	mu    sync.RWMutex
	items map[string]T
	rv    string
	// listed is set by the first replace, which also queues the synced note.
	listed bool
}

func newCache[T Object]() *cache[T] { return &cache[T]{items: map[string]T{}} }

func (c *cache[T]) resourceVersion() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rv
}

// replace swaps in a fresh list: adds for new objects, updates for changed
// ones (by resourceVersion), deletes for vanished ones.
func (c *cache[T]) replace(items []T, rv string, q *notifyQueue[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[string]T, len(items))
	for _, o := range items {
		k := Key(o.GetMetadata())
		next[k] = o
		old, ok := c.items[k]
		switch {
		case !ok:
			q.push(note[T]{kind: noteAdd, obj: o})
		case old.GetMetadata().GetResourceVersion() != o.GetMetadata().GetResourceVersion():
			q.push(note[T]{kind: noteUpdate, old: old, obj: o})
		}
	}
	for k, old := range c.items {
		if _, ok := next[k]; !ok {
			q.push(note[T]{kind: noteDelete, obj: old})
		}
	}
	c.items = next
	c.rv = rv
	if !c.listed {
		c.listed = true
		q.push(note[T]{kind: noteSynced})
	}
}

// apply applies one watch event. It returns false for an unknown type.
func (c *cache[T]) apply(typ string, obj T, q *notifyQueue[T]) bool {
	m := obj.GetMetadata()
	c.mu.Lock()
	defer c.mu.Unlock()
	if rv := m.GetResourceVersion(); rv != "" {
		c.rv = rv
	}
	if typ == "BOOKMARK" {
		return true
	}
	k := Key(m)
	old, ok := c.items[k]
	switch typ {
	case "ADDED", "MODIFIED":
		c.items[k] = obj
		if ok {
			q.push(note[T]{kind: noteUpdate, old: old, obj: obj})
		} else {
			q.push(note[T]{kind: noteAdd, obj: obj})
		}
	case "DELETED":
		if ok {
			delete(c.items, k)
			q.push(note[T]{kind: noteDelete, obj: obj})
		}
	default:
		return false
	}
	return true
}

// resync queues OnUpdate(obj, obj) for every cached object.
func (c *cache[T]) resync(q *notifyQueue[T]) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, o := range c.items {
		q.push(note[T]{kind: noteUpdate, old: o, obj: o})
	}
}

// Lister reads an informer's cache. Returned objects are shared: do not
// mutate them.
type Lister[T Object] struct {
	c *cache[T]
}

// Get returns the object namespace/name (namespace "" for cluster-scoped
// kinds) and whether it is cached.
func (l Lister[T]) Get(namespace, name string) (T, bool) {
	l.c.mu.RLock()
	defer l.c.mu.RUnlock()
	o, ok := l.c.items[Key(&metav1.ObjectMeta{Namespace: namespace, Name: name})]
	return o, ok
}

// List returns the cached objects whose labels match sel (all when nil),
// in no particular order.
func (l Lister[T]) List(sel labels.Selector) []T {
	return l.ListNamespace("", sel)
}

// ListNamespace is List limited to one namespace ("" for all).
func (l Lister[T]) ListNamespace(namespace string, sel labels.Selector) []T {
	l.c.mu.RLock()
	defer l.c.mu.RUnlock()
	var out []T
	for _, o := range l.c.items {
		m := o.GetMetadata()
		if namespace != "" && m.GetNamespace() != namespace {
			continue
		}
		if sel == nil || sel.Matches(labels.Set(m.GetLabels())) {
			out = append(out, o)
		}
	}
	return out
}
