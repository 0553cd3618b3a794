package queue

import (
	"context"
	"time"
)

// Unschedulable ends an attempt that found no node. The pod waits in the
// unschedulable part for a cluster event, unless one happened during the
// attempt or the pod itself changed: then it is retried after its backoff.
// A pod deleted or bound meanwhile is dropped.
func (q *Queue) Unschedulable(attempt *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qp, ok := q.pods[attempt.Key]
	if !ok || qp.where != inFlight {
		return
	}
	qp.Timestamp = q.opts.Now()
	if qp.changed || q.moveCycle >= qp.cycle {
		q.toBackoff(qp)
		return
	}
	qp.where = inUnschedulable
	q.unschedulable[qp.Key] = qp
}

// Backoff ends an attempt that failed with an error (a plugin error, a
// failed binding): the pod is retried once its backoff is over. A pod
// deleted or bound meanwhile is dropped.
func (q *Queue) Backoff(attempt *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qp, ok := q.pods[attempt.Key]
	if !ok || qp.where != inFlight {
		return
	}
	qp.Timestamp = q.opts.Now()
	q.toBackoff(qp)
}

// MoveAllToActiveOrBackoff is called when the cluster changed in a way
// that may let unschedulable pods fit (a node added or updated, a pod
// deleted): each is retried, after what remains of its backoff.
func (q *Queue) MoveAllToActiveOrBackoff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, qp := range q.unschedulable {
		delete(q.unschedulable, key)
		q.requeue(qp)
	}
	q.moveCycle = q.cycle
}

// Flush moves the pods whose backoff is over to active, and the pods
// unschedulable for longer than UnschedulableTimeout to active or backoff.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for qp := q.backoff.peek(); qp != nil && !q.backoffExpiry(qp).After(now); qp = q.backoff.peek() {
		q.backoff.pop()
		q.toActive(qp)
	}
	for key, qp := range q.unschedulable {
		if now.Sub(qp.Timestamp) >= q.opts.UnschedulableTimeout {
			delete(q.unschedulable, key)
			q.requeue(qp)
		}
	}
}

// Run calls Flush every FlushInterval until ctx ends.
func (q *Queue) Run(ctx context.Context) {
	t := time.NewTicker(q.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			q.Flush()
		}
	}
}

// BackoffDuration returns the wait of a pod after attempts failed attempts.
func (q *Queue) BackoffDuration(attempts int) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < attempts && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}

// backoffExpiry is when a pod's backoff ends.
func (q *Queue) backoffExpiry(qp *QueuedPod) time.Time {
	return qp.Timestamp.Add(q.BackoffDuration(qp.Attempts))
}

// requeue sends a pod taken out of unschedulable to backoff if its
// backoff is not over, else to active; q.mu is held.
func (q *Queue) requeue(qp *QueuedPod) {
	if q.backoffExpiry(qp).After(q.opts.Now()) {
		q.toBackoff(qp)
		return
	}
	q.toActive(qp)
}

// toBackoff puts qp in the backoff heap; q.mu is held.
func (q *Queue) toBackoff(qp *QueuedPod) {
	qp.where = inBackoff
	q.backoff.push(qp)
}
