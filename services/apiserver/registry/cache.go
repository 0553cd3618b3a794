package registry

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"github.com/tugboat-sh/tugboat/services/apiserver/watchcache"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// availableTimeout bounds the compaction check of a watch served from the
// cache.
const availableTimeout = 2 * time.Second

// newCaches builds one watch cache per resource; namespaces also keep their
// objects, so that creates can check their namespace without reading etcd.
func (r *Registry) newCaches() {
	r.caches = map[string]*watchcache.Cache{}
	for name, res := range r.resources {
		r.caches[name] = watchcache.New(r.store, name, res.prefix(""), res.decode, watchcache.Options{
			Capacity:         r.opts.WatchCacheSize,
			ProgressInterval: r.opts.BookmarkInterval,
			Objects:          name == "namespaces",
		}, r.opts.Logger)
	}
}

// written hands an object just stored at rev to the resource's watch cache.
// From here on the object is shared: it must not be modified.
func (r *Resource) written(ns, name string, rev int64, obj proto.Message) {
	if c := r.reg.caches[r.Kind.Resource]; c != nil {
		c.Written(r.key(ns, name), rev, obj)
	}
}

// RunCaches runs every resource's watch cache until ctx ends. Watches are
// served from etcd directly until a cache is running.
func (r *Registry) RunCaches(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range r.caches {
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Wait()
}

// WaitCaches waits until the watch caches of resources serve watches, so
// that a watch started after it (from a list's revision) is served by the
// cache rather than by an etcd watch of its own. It returns false when ctx
// ends first.
func (r *Registry) WaitCaches(ctx context.Context, resources ...string) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		ready := true
		for _, name := range resources {
			if c := r.caches[name]; c != nil && !c.Ready() {
				ready = false
			}
		}
		if ready {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// cachedNamespace returns the namespace from the cache when it is there and
// active; false means ask etcd.
func (r *Registry) cachedNamespace(name string) bool {
	obj, ok := r.caches["namespaces"].Get(r.Resource("namespaces").key("", name))
	if !ok {
		return false
	}
	ns := obj.(*corev1.Namespace)
	return ns.GetMetadata().GetDeletionTimestamp() == nil && ns.GetStatus().GetPhase() != "Terminating"
}

// watchCached serves a watch from the resource's cache. It returns false,
// having sent nothing, when the cache cannot serve revisions after start.
func (r *Resource) watchCached(ctx context.Context, start int64, ns string, m *matcher, bookmarks bool,
	send func(string, proto.Message) error, started func() error) (bool, error) {
	c := r.reg.caches[r.Kind.Resource]
	if c == nil {
		return false, nil
	}
	w, ok := c.Watch(start, bookmarks)
	if !ok {
		return false, nil
	}
	defer w.Stop()
	// The cache may hold events etcd has compacted away: a client gets
	// Gone for a compacted revision whichever path serves it. When etcd
	// cannot say, the window is still right: serve it.
	actx, cancel := context.WithTimeout(ctx, availableTimeout)
	err := r.reg.store.Available(actx, start+1)
	cancel()
	if errors.Is(err, storage.ErrCompacted) {
		return true, r.gone(start, err)
	}
	if err != nil && ctx.Err() == nil {
		r.reg.opts.Logger.Warn("cannot check a watch's revision against compaction; serving it from the watch cache",
			zap.String("resource", r.Kind.Resource), zap.Int64("revision", start), zap.Error(err))
	}
	if started != nil {
		if err := started(); err != nil {
			return true, err
		}
	}
	for {
		events, err := w.Next(ctx)
		if errors.Is(err, io.EOF) {
			// The cache closed the watch (restart or too slow); the client
			// resumes from the last revision it saw.
			r.reg.opts.Logger.Debug("watch closed by the watch cache", zap.String("resource", r.Kind.Resource))
			return true, nil
		}
		if err != nil {
			return true, err
		}
		for _, e := range events {
			var typ string
			var obj proto.Message
			if e.Type == storage.Progress {
				typ, obj = Bookmark, r.bookmark(e.Revision)
			} else {
				typ, obj = classify(e.Type, e.Object, e.Prev, m, ns)
			}
			if obj == nil {
				continue
			}
			if err := send(typ, obj); err != nil {
				return true, err
			}
		}
	}
}
