package storage

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// EventType says what happened to a key.
type EventType int

// Event types.
const (
	Put EventType = iota
	Deleted
	// Progress carries no key: the watch has seen everything up to Revision.
	Progress
)

// Event is one change under a watched prefix.
type Event struct {
	Type EventType
	// Created is true for a Put that created the key.
	Created bool
	Key     []byte
	// Value is the new value; empty for a delete.
	Value []byte
	// Prev is the value before the change; nil when the key is new, or on
	// a Put when the stored previous value cannot be opened (an encryption
	// key removed while etcd still held history written under it).
	Prev     []byte
	Revision int64
}

// WatchOptions tune a watch.
type WatchOptions struct {
	// ProgressInterval asks etcd for a progress notification this often, so
	// idle watchers learn the current revision (bookmarks); 0 means never.
	ProgressInterval time.Duration
}

// Watch streams the changes under prefix after revision afterRev. The channel
// closes when ctx ends or the watch fails; the error function then says why
// (ErrCompacted when afterRev is too old, nil when ctx ended).
func (s *Store) Watch(ctx context.Context, prefix string, afterRev int64, opts WatchOptions) (<-chan Event, func() error) {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	// The client's own watcher multiplexes every watch over one stream (and
	// works with the in-process client of the embedded etcd).
	watcher := s.client.Watcher
	wch := watcher.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithRev(afterRev+1))
	out := make(chan Event, 100)
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		defer cancel()
		seen := afterRev // every change up to seen has been sent
		var tick <-chan time.Time
		if opts.ProgressInterval > 0 {
			t := time.NewTicker(opts.ProgressInterval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				// etcd answers a progress request only once the store has
				// passed the start of every watch on the stream, so a watch
				// idle at the head would never get one: when nothing was
				// written since the last revision sent, report that one.
				if head, err := s.CurrentRevision(ctx); err == nil && head <= seen {
					if !send(ctx, out, Event{Type: Progress, Revision: seen}) {
						return
					}
					continue
				}
				if err := watcher.RequestProgress(ctx); err != nil && ctx.Err() == nil {
					werr = fmt.Errorf("request watch progress: %w", err)
					return
				}
			case resp, ok := <-wch:
				if !ok {
					if ctx.Err() == nil {
						werr = fmt.Errorf("watch %s: channel closed", prefix)
					}
					return
				}
				if resp.CompactRevision != 0 {
					werr = fmt.Errorf("%w: at %d", ErrCompacted, resp.CompactRevision)
					return
				}
				if err := resp.Err(); err != nil {
					if ctx.Err() == nil {
						werr = fmt.Errorf("watch %s: %w", prefix, err)
					}
					return
				}
				if resp.IsProgressNotify() {
					seen = max(seen, resp.Header.Revision)
					if opts.ProgressInterval <= 0 {
						// etcd answers another watch's progress request to
						// every watch on the stream: this one did not ask.
						continue
					}
					if !send(ctx, out, Event{Type: Progress, Revision: resp.Header.Revision}) {
						return
					}
					continue
				}
				for _, ev := range resp.Events {
					e := Event{Key: ev.Kv.Key, Revision: ev.Kv.ModRevision}
					seen = max(seen, ev.Kv.ModRevision)
					var err error
					var prevErr error
					if ev.PrevKv != nil {
						e.Prev, prevErr = s.fromStorage(string(ev.Kv.Key), ev.PrevKv.Value)
					}
					switch ev.Type {
					case clientv3.EventTypeDelete:
						// A delete is known only by its previous value:
						// without it the watcher would miss the deletion,
						// so the watch fails instead (and is resumed or,
						// once compacted, relisted).
						if prevErr != nil {
							werr = prevErr
							return
						}
						e.Type = Deleted
					default:
						// A previous value this store cannot open (history
						// written under an encryption key since removed) is
						// left out: the change itself is still delivered.
						if prevErr != nil {
							e.Prev = nil
						}
						e.Type = Put
						e.Created = ev.IsCreate()
						if e.Value, err = s.fromStorage(string(ev.Kv.Key), ev.Kv.Value); err != nil {
							werr = err
							return
						}
					}
					if !send(ctx, out, e) {
						return
					}
				}
			}
		}
	}()
	return out, func() error {
		<-done
		return werr
	}
}

func send(ctx context.Context, out chan<- Event, e Event) bool {
	select {
	case out <- e:
		return true
	case <-ctx.Done():
		return false
	}
}
