// Package cache mirrors resources of the apiserver's own registry in
// memory: a list, then a watch served by the watch cache (relisting when it
// is Gone), calling a handler on every change. The authenticator (bootstrap
// tokens) and the authoriser (RBAC, the node authoriser's pod index) read
// it, so a request never reads etcd to be authorised.
package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// retryDelay is how long a failed list or watch waits before trying again.
const retryDelay = time.Second

// Handler hears each change: old is nil for an add, obj is nil for a delete.
type Handler func(old, obj proto.Message)

// Cache holds the objects of one resource, optionally of one namespace and
// field selector.
type Cache struct {
	res     *registry.Resource
	opts    *metav1.ListOptions
	handler Handler
	log     *zap.Logger

	mu      sync.RWMutex
	objects map[string]proto.Message
	synced  atomic.Bool
	ready   chan struct{}
	once    sync.Once
}

// New mirrors res's objects matching opts (namespace, field and label
// selectors; nil means all); handler may be nil.
func New(res *registry.Resource, opts *metav1.ListOptions, handler Handler, log *zap.Logger) *Cache {
	if opts == nil {
		opts = &metav1.ListOptions{}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Cache{res: res, opts: opts, handler: handler, log: log, objects: map[string]proto.Message{}, ready: make(chan struct{})}
}

// Key is namespace/name, or name for cluster-scoped objects.
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func keyOf(obj proto.Message) string {
	m := obj.ProtoReflect().Get(obj.ProtoReflect().Descriptor().Fields().ByName("metadata")).Message().Interface().(*metav1.ObjectMeta)
	return Key(m.GetNamespace(), m.GetName())
}

// Get returns an object by key; callers must not modify it.
func (c *Cache) Get(key string) (proto.Message, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.objects[key]
	return o, ok
}

// List returns every object; callers must not modify them.
func (c *Cache) List() []proto.Message {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]proto.Message, 0, len(c.objects))
	for _, o := range c.objects {
		out = append(out, o)
	}
	return out
}

// Synced reports whether the first list has been loaded.
func (c *Cache) Synced() bool { return c.synced.Load() }

// WaitSynced blocks until the first list is loaded or ctx ends.
func (c *Cache) WaitSynced(ctx context.Context) bool {
	select {
	case <-c.ready:
		return true
	case <-ctx.Done():
		return false
	}
}

// Run lists and watches until ctx ends.
func (c *Cache) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := c.listAndWatch(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("cache watch ended, listing again", zap.String("resource", c.res.Kind.Resource), zap.Error(err))
			select {
			case <-ctx.Done():
			case <-time.After(retryDelay):
			}
		}
	}
}

func (c *Cache) listAndWatch(ctx context.Context) error {
	opts := proto.Clone(c.opts).(*metav1.ListOptions)
	list, err := c.res.List(ctx, opts)
	if err != nil {
		return err
	}
	fresh := make(map[string]proto.Message, len(list.Items))
	for _, o := range list.Items {
		fresh[keyOf(o)] = o
	}
	c.mu.Lock()
	old := c.objects
	c.objects = fresh
	c.mu.Unlock()
	if c.handler != nil {
		for k, o := range old {
			if n, ok := fresh[k]; !ok {
				c.handler(o, nil)
			} else if !proto.Equal(o, n) {
				c.handler(o, n)
			}
		}
		for k, n := range fresh {
			if _, ok := old[k]; !ok {
				c.handler(nil, n)
			}
		}
	}
	c.synced.Store(true)
	c.once.Do(func() { close(c.ready) })
	opts.ResourceVersion = list.Meta.GetResourceVersion()
	return c.res.Watch(ctx, opts, c.apply, nil)
}

func (c *Cache) apply(eventType string, obj proto.Message) error {
	if eventType == registry.Bookmark {
		return nil
	}
	k := keyOf(obj)
	c.mu.Lock()
	old := c.objects[k]
	if eventType == registry.Deleted {
		delete(c.objects, k)
	} else {
		c.objects[k] = obj
	}
	c.mu.Unlock()
	if c.handler != nil {
		if eventType == registry.Deleted {
			c.handler(old, nil)
		} else {
			c.handler(old, obj)
		}
	}
	return nil
}
