package watchcache

import (
	"context"
	"io"
	"sync"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// Watcher receives the events of one watch, in revision order.
type Watcher struct {
	cache     *Cache
	after     int64
	bookmarks bool
	signal    chan struct{}

	mu     sync.Mutex
	queue  []Event
	closed bool
}

// push queues e for the watcher; it returns false when the watcher is
// closed, now or before, because it fell more than maxBehind events behind.
// The cache holds its lock.
func (w *Watcher) push(e Event, maxBehind int) bool {
	if e.Type == storage.Progress {
		// A bookmark at the watch's own revision tells the client it is
		// current; changes must come after it.
		if !w.bookmarks || e.Revision < w.after {
			return true
		}
	} else if e.Revision <= w.after {
		return true
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	if len(w.queue) >= maxBehind {
		w.closed = true
		w.queue = nil
		w.mu.Unlock()
		w.wake()
		return false
	}
	w.queue = append(w.queue, e)
	w.mu.Unlock()
	w.wake()
	return true
}

func (w *Watcher) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// close ends the watcher; Next then returns io.EOF once the queue is drained.
func (w *Watcher) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wake()
}

// Next waits for events and returns all that are queued. It returns io.EOF
// when the cache closed the watcher (restart, shutdown, or too slow: the
// client should resume from its last revision), or ctx's error.
func (w *Watcher) Next(ctx context.Context) ([]Event, error) {
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			q := w.queue
			w.queue = nil
			w.mu.Unlock()
			return q, nil
		}
		closed := w.closed
		w.mu.Unlock()
		if closed {
			return nil, io.EOF
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.signal:
		}
	}
}

// Stop unregisters the watcher.
func (w *Watcher) Stop() {
	w.cache.mu.Lock()
	delete(w.cache.watchers, w)
	w.cache.mu.Unlock()
	w.close()
}
