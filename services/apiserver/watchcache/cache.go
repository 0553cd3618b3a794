// Package watchcache serves the apiserver's watches from one etcd watch per
// resource. It decodes each change once, keeps a window of recent events so
// that a watch can start from any resourceVersion inside the window, and fans
// every event out to the watchers in memory. A watch from a revision older
// than the window is not served here: the caller falls back to an etcd watch,
// which answers Gone when that revision is compacted. With Options.Objects it
// also keeps every current object, for lookups that may be slightly stale.
package watchcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Decoder turns a stored value into an object carrying resourceVersion rev.
type Decoder func(value []byte, rev int64) (proto.Message, error)

// Event is one decoded change. Objects are shared by every watcher and must
// not be modified.
type Event struct {
	Type     storage.EventType
	Revision int64
	// Object is the new object of a Put; nil for a delete or progress.
	Object proto.Message
	// Prev is the object before the change; nil when the key is new.
	Prev proto.Message
}

// Options tune a cache.
type Options struct {
	// Capacity is how many recent events are kept; 1024 when zero.
	Capacity int
	// ProgressInterval asks etcd for progress this often, for bookmarks;
	// 0 means never.
	ProgressInterval time.Duration
	// MaxBehind is how many undelivered events a watcher may hold before it
	// is closed as too slow (its client resumes from its last revision);
	// 10000 when zero.
	MaxBehind int
	// Objects keeps the current object of every key (see Get).
	Objects bool
	// RetryInterval paces restarts of the etcd watch; a second when zero.
	RetryInterval time.Duration
}

// Cache is the watch cache of one key prefix.
type Cache struct {
	store    *storage.Store
	resource string
	prefix   string
	decode   Decoder
	opts     Options
	log      *zap.Logger

	mu       sync.Mutex
	ready    bool
	ring     window // the recent events
	oldest   int64  // every event after this revision is in ring
	rev      int64  // the latest revision seen
	objects  map[string]proto.Message
	watchers map[*Watcher]struct{}

	hintMu  sync.Mutex
	hints   map[string]hint // objects this apiserver wrote, by key
	applied atomic.Int64    // the revision of the last change applied
}

// hint is an object as written at a revision.
type hint struct {
	rev int64
	obj proto.Message
}

// New returns a cache of the keys under prefix; Run fills it.
func New(store *storage.Store, resource, prefix string, decode Decoder, opts Options, log *zap.Logger) *Cache {
	if opts.Capacity <= 0 {
		opts.Capacity = 1024
	}
	if opts.MaxBehind <= 0 {
		opts.MaxBehind = 10000
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Cache{
		store: store, resource: resource, prefix: prefix, decode: decode, opts: opts,
		log:      log.With(zap.String("resource", resource)),
		watchers: map[*Watcher]struct{}{},
		hints:    map[string]hint{},
	}
}

// Written tells the cache that this apiserver stored obj under key at rev,
// so that the change's event can use obj instead of decoding the stored
// bytes. obj must carry resourceVersion rev and must not be modified after.
func (c *Cache) Written(key string, rev int64, obj proto.Message) {
	if rev <= c.applied.Load() {
		return // the change's event came first
	}
	c.hintMu.Lock()
	defer c.hintMu.Unlock()
	if len(c.hints) >= 4*c.opts.Capacity {
		// Hints of changes the cache never saw (it restarted past them).
		clear(c.hints)
	}
	c.hints[key] = hint{rev: rev, obj: obj}
}

// written returns and forgets the hint for key at rev, if there is one.
func (c *Cache) written(key []byte, rev int64) proto.Message {
	c.hintMu.Lock()
	defer c.hintMu.Unlock()
	h, ok := c.hints[string(key)]
	if !ok || h.rev > rev {
		return nil
	}
	delete(c.hints, string(key))
	if h.rev < rev {
		return nil
	}
	return h.obj
}

// Run follows etcd until ctx ends. A broken etcd watch is resumed from the
// last revision seen; when that revision is compacted the cache starts over
// and closes its watchers, whose clients resume or relist.
func (c *Cache) Run(ctx context.Context) {
	defer c.stop()
	var from int64
	for ctx.Err() == nil {
		if from == 0 {
			rev, err := c.restart(ctx)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("watch cache start failed", zap.Error(err))
					c.pause(ctx)
				}
				continue
			}
			from = rev
		}
		events, werr := c.store.Watch(ctx, c.prefix, from, storage.WatchOptions{ProgressInterval: c.opts.ProgressInterval})
		for ev := range events {
			c.apply(ev)
		}
		err := werr()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, storage.ErrCompacted) {
			// The window can no longer be continued: stop serving from
			// it (watchers resume, namespace lookups go to etcd) until
			// restart has reloaded.
			c.stop()
			from = 0
		} else {
			from = c.Revision()
		}
		c.log.Warn("watch cache lost its etcd watch, resuming", zap.Int64("revision", from), zap.Error(err))
		c.pause(ctx)
	}
}

func (c *Cache) pause(ctx context.Context) {
	t := time.NewTimer(c.opts.RetryInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// restart empties the window at the current revision, reloading the objects
// when they are kept, and closes every watcher.
func (c *Cache) restart(ctx context.Context) (int64, error) {
	rev, err := c.store.CurrentRevision(ctx)
	if err != nil {
		return 0, err
	}
	var objects map[string]proto.Message
	if c.opts.Objects {
		list, err := c.store.List(ctx, c.resource, c.prefix, storage.ListOptions{Revision: rev})
		if err != nil {
			return 0, err
		}
		objects = make(map[string]proto.Message, len(list.Items))
		for _, kv := range list.Items {
			obj, err := c.decode(kv.Value, kv.ModRevision)
			if err != nil {
				return 0, err
			}
			objects[string(kv.Key)] = obj
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeWatchersLocked()
	c.ring.reset(c.opts.Capacity)
	c.oldest, c.rev = rev, rev
	c.objects = objects
	c.ready = true
	return rev, nil
}

// stop closes every watcher and stops serving.
func (c *Cache) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready = false
	c.closeWatchersLocked()
}

func (c *Cache) closeWatchersLocked() {
	for w := range c.watchers {
		w.close()
	}
	clear(c.watchers)
}

// Ready reports whether the cache serves watches.
func (c *Cache) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// Revision is the latest revision the cache has seen.
func (c *Cache) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// apply decodes one etcd event and hands it to the window, the objects and
// every watcher.
func (c *Cache) apply(ev storage.Event) {
	e := Event{Type: ev.Type, Revision: ev.Revision}
	var err error
	if ev.Type != storage.Progress {
		// Put: the object may have been handed over; Deleted: forget a
		// hint that can no longer match.
		e.Object = c.written(ev.Key, ev.Revision)
		if ev.Type == storage.Deleted {
			e.Object = nil
		}
		defer c.applied.Store(ev.Revision)
	}
	if ev.Type == storage.Put && e.Object == nil {
		if e.Object, err = c.decode(ev.Value, ev.Revision); err != nil {
			c.log.Error("watch cache cannot decode an object; its event is dropped", zap.ByteString("key", ev.Key), zap.Error(err))
			return
		}
	}
	if ev.Prev != nil {
		if e.Prev, err = c.decode(ev.Prev, ev.Revision); err != nil {
			c.log.Error("watch cache cannot decode a previous object", zap.ByteString("key", ev.Key), zap.Error(err))
			e.Prev = nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Revision > c.rev {
		c.rev = e.Revision
	}
	if e.Type != storage.Progress {
		if evicted, ok := c.ring.push(e); ok {
			c.oldest = evicted.Revision
		}
		if c.objects != nil {
			if e.Type == storage.Put {
				c.objects[string(ev.Key)] = e.Object
			} else {
				delete(c.objects, string(ev.Key))
			}
		}
	}
	for w := range c.watchers {
		if !w.push(e, c.opts.MaxBehind) {
			delete(c.watchers, w)
		}
	}
}

// Get returns the cached object under key, when Options.Objects is set and
// the cache is running. It may lag etcd by the watch delay.
func (c *Cache) Get(key string) (proto.Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready || c.objects == nil {
		return nil, false
	}
	obj, ok := c.objects[key]
	return obj, ok
}

// Watch starts a watcher of the events after revision after, or returns
// false when the cache cannot serve that revision (not running, or after
// is older than its window). bookmarks asks for progress events.
func (c *Cache) Watch(after int64, bookmarks bool) (*Watcher, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready || after < c.oldest {
		return nil, false
	}
	w := &Watcher{cache: c, after: after, bookmarks: bookmarks, signal: make(chan struct{}, 1)}
	w.queue = c.ring.after(after)
	if len(w.queue) > 0 {
		w.signal <- struct{}{}
	}
	c.watchers[w] = struct{}{}
	return w, true
}
