package informer

import (
	"context"
	"sync"
)

type noteKind int

const (
	noteAdd noteKind = iota
	noteUpdate
	noteDelete
	noteSynced
)

type note[T any] struct {
	kind     noteKind
	old, obj T
}

// notifyQueue is the unbounded FIFO between the cache and the handlers,
// so that a slow handler never blocks the watch.
type notifyQueue[T any] struct {
	mu    sync.Mutex
	items []note[T]
	wake  chan struct{}
}

func newNotifyQueue[T any]() *notifyQueue[T] {
	return &notifyQueue[T]{wake: make(chan struct{}, 1)}
}

func (q *notifyQueue[T]) push(n note[T]) {
	q.mu.Lock()
	q.items = append(q.items, n)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// popAll waits for notes and takes all of them, or returns nil when ctx ends.
func (q *notifyQueue[T]) popAll(ctx context.Context) []note[T] {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		if len(items) > 0 {
			return items
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		}
	}
}

// dispatch calls the handlers for every note until ctx ends.
func (i *Informer[T]) dispatch(ctx context.Context) {
	for {
		notes := i.notes.popAll(ctx)
		if notes == nil {
			return
		}
		for _, n := range notes {
			if ctx.Err() != nil {
				return
			}
			switch n.kind {
			case noteAdd:
				for _, h := range i.handlers {
					h.OnAdd(n.obj)
				}
			case noteUpdate:
				for _, h := range i.handlers {
					h.OnUpdate(n.old, n.obj)
				}
			case noteDelete:
				for _, h := range i.handlers {
					h.OnDelete(n.obj)
				}
			case noteSynced:
				if i.synced.CompareAndSwap(false, true) {
					close(i.syncedCh)
				}
			}
		}
	}
}
