// Package workqueue is a de-duplicating, rate-limited work queue with
// Kubernetes' semantics: a key is queued once however often it is added,
// is never handed to two workers at once, and is requeued after Done when
// it was added again while being processed.
package workqueue

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Queue. The zero value is usable.
type Config[K comparable] struct {
	// Name labels the queue's metrics.
	Name string
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// RateLimiter decides AddRateLimited delays; DefaultRateLimiter when nil.
	RateLimiter RateLimiter[K]
}

// Queue is a work queue of keys. Workers loop on Get, process the key and
// call Done; on failure AddRateLimited retries it later, on success Forget
// resets its backoff. All methods are safe for concurrent use.
type Queue[K comparable] struct {
	limiter RateLimiter[K]
	metrics *metrics

	mu         sync.Mutex
	cond       *sync.Cond
	queue      []K
	dirty      map[K]struct{}  // queued or to be requeued after Done
	processing map[K]time.Time // handed out by Get, not yet Done
	shutdown   bool

	delay *delayer[K]
}

// New returns a running queue; call ShutDown to release its goroutine.
func New[K comparable](cfg Config[K]) (*Queue[K], error) {
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	q := &Queue[K]{
		limiter:    cfg.RateLimiter,
		metrics:    m,
		dirty:      map[K]struct{}{},
		processing: map[K]time.Time{},
	}
	if q.limiter == nil {
		q.limiter = DefaultRateLimiter[K]()
	}
	q.cond = sync.NewCond(&q.mu)
	q.delay = newDelayer(q.Add)
	return q, nil
}

// Add queues key unless it is already queued. A key being processed is
// queued again once its worker calls Done. Adds after ShutDown are dropped.
func (q *Queue[K]) Add(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.metrics.add()
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return
	}
	q.queue = append(q.queue, key)
	q.metrics.depth(len(q.queue))
	q.cond.Signal()
}

// Get blocks until a key is available and returns it, marking it in
// processing; the caller must call Done(key). shutdown is true, with the
// zero key, once the queue is shut down and empty.
func (q *Queue[K]) Get() (key K, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if len(q.queue) == 0 {
		return key, true
	}
	key = q.queue[0]
	var zero K
	q.queue[0] = zero
	q.queue = q.queue[1:]
	q.metrics.depth(len(q.queue))
	q.processing[key] = time.Now()
	delete(q.dirty, key)
	return key, false
}

// Done marks key as processed; if it was added meanwhile it is queued again.
func (q *Queue[K]) Done(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	start, ok := q.processing[key]
	if !ok {
		return
	}
	q.metrics.workDuration(time.Since(start))
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		q.queue = append(q.queue, key)
		q.metrics.depth(len(q.queue))
		q.cond.Signal()
	} else if len(q.processing) == 0 {
		q.cond.Broadcast() // wakes ShutDownWithDrain
	}
}

// AddAfter adds key once d has passed; d <= 0 adds it now.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	if q.ShuttingDown() {
		return
	}
	if d <= 0 {
		q.Add(key)
		return
	}
	q.delay.addAfter(key, d)
}

// AddRateLimited adds key after the rate limiter's delay for it, which grows
// with every call until Forget.
func (q *Queue[K]) AddRateLimited(key K) {
	if q.ShuttingDown() {
		return
	}
	q.metrics.retry()
	q.AddAfter(key, q.limiter.When(key))
}

// Forget resets key's rate-limit backoff; call it when key succeeded.
func (q *Queue[K]) Forget(key K) { q.limiter.Forget(key) }

// NumRequeues returns how many times key was rate-limited since Forget.
func (q *Queue[K]) NumRequeues(key K) int { return q.limiter.NumRequeues(key) }

// Len returns the number of keys waiting to be handed out.
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown stops the queue: Adds are dropped, delayed keys are discarded,
// and Get returns shutdown=true once the queued keys are handed out.
func (q *Queue[K]) ShutDown() {
	q.delay.stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	q.cond.Broadcast()
}

// ShutDownWithDrain shuts the queue down and waits until every key handed
// out by Get is Done. Workers must keep calling Get until it says shutdown.
func (q *Queue[K]) ShutDownWithDrain() {
	q.ShutDown()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.processing) > 0 || len(q.queue) > 0 {
		q.cond.Wait()
	}
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue[K]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}
