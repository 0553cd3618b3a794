// Package queue holds the pods waiting to be scheduled, as Kubernetes'
// scheduling queue does, in three parts: active (popped by priority, then
// first in first out), backoff (failed recently: 1 s doubling to 10 s per
// pod before the next attempt) and unschedulable (no node fitted; waits
// for the cluster to change: a node added or updated, a pod deleted, and
// at the latest for a timeout of 60 s).
package queue

import (
	"context"
	"maps"
	"sync"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

// Options tune a Queue; zero fields take the defaults.
type Options struct {
	// InitialBackoff is the wait after a pod's first failed attempt (1s);
	// it doubles with each attempt up to MaxBackoff (10s).
	InitialBackoff, MaxBackoff time.Duration
	// UnschedulableTimeout is the longest an unschedulable pod waits for
	// a cluster event before it is retried anyway (60s).
	UnschedulableTimeout time.Duration
	// FlushInterval is how often Run moves pods whose wait is over (100ms).
	FlushInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// QueuedPod is a pending pod and its history in the queue.
type QueuedPod struct {
	Pod *corev1.Pod
	// Key is "namespace/name".
	Key string
	// Attempts counts the times the pod was popped.
	Attempts int
	// Timestamp is when the pod last entered the queue or, after a
	// failed attempt, when the attempt ended.
	Timestamp time.Time
	// InitialTimestamp is when the pod was first added.
	InitialTimestamp time.Time

	index    int   // position in its heap
	cycle    int64 // the scheduling cycle of its last Pop
	where    part
	changed  bool // its spec changed while in flight
	priority int32
}

// part says where a pod is.
type part int

const (
	inActive part = iota
	inBackoff
	inUnschedulable
	inFlight
)

// Queue is the scheduling queue. It is safe for concurrent use.
type Queue struct {
	opts Options

	mu            sync.Mutex
	pods          map[string]*QueuedPod // every pod, wherever it is
	active        *podHeap
	backoff       *podHeap
	unschedulable map[string]*QueuedPod
	// cycle counts Pops; moveCycle is the cycle current at the last
	// cluster event, so a pod whose attempt overlapped one is retried
	// instead of parked as unschedulable.
	cycle, moveCycle int64
	wake             chan struct{}
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.UnschedulableTimeout <= 0 {
		opts.UnschedulableTimeout = time.Minute
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &Queue{
		opts:          opts,
		pods:          map[string]*QueuedPod{},
		unschedulable: map[string]*QueuedPod{},
		moveCycle:     -1,
		wake:          make(chan struct{}, 1),
	}
	q.active = &podHeap{less: func(a, b *QueuedPod) bool {
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		return a.Timestamp.Before(b.Timestamp)
	}}
	q.backoff = &podHeap{less: func(a, b *QueuedPod) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) }}
	return q
}

// Key returns the "namespace/name" a pod is queued by.
func Key(pod *corev1.Pod) string {
	return pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
}

// Add queues a new pending pod as active; a pod already queued is updated.
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	if _, ok := q.pods[key]; ok {
		q.update(key, pod)
		return
	}
	now := q.opts.Now()
	qp := &QueuedPod{Pod: pod, Key: key, Timestamp: now, InitialTimestamp: now, priority: pod.GetSpec().GetPriority()}
	q.pods[key] = qp
	q.toActive(qp)
}

// Update replaces a queued pod, or adds it. An unschedulable pod whose
// spec, labels or annotations changed is retried (after its backoff); a
// status change, such as the scheduler's own condition, does not move it.
func (q *Queue) Update(pod *corev1.Pod) { q.Add(pod) }

// update is Update of a queued pod; q.mu is held.
func (q *Queue) update(key string, pod *corev1.Pod) {
	qp := q.pods[key]
	changed := relevantChange(qp.Pod, pod)
	qp.Pod = pod
	switch {
	case !changed:
	case qp.where == inFlight:
		qp.changed = true
	case qp.where == inUnschedulable:
		delete(q.unschedulable, key)
		q.requeue(qp)
	}
}

// Delete forgets a pod: deleted, or bound by someone.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	qp, ok := q.pods[key]
	if !ok {
		return
	}
	delete(q.pods, key)
	switch qp.where {
	case inActive:
		q.active.remove(qp)
	case inBackoff:
		q.backoff.remove(qp)
	case inUnschedulable:
		delete(q.unschedulable, key)
	}
}

// Pop waits for an active pod and takes it for a scheduling attempt. It
// returns a copy; report the attempt's outcome with Done, Unschedulable
// or Backoff. It returns ctx's error when ctx ends first.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	for {
		q.mu.Lock()
		if q.active.Len() > 0 {
			qp := q.active.pop()
			q.cycle++
			qp.cycle = q.cycle
			qp.Attempts++
			qp.where = inFlight
			qp.changed = false
			out := *qp
			q.mu.Unlock()
			return &out, nil
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.wake:
		}
	}
}

// Done ends a successful attempt: the pod is bound and leaves the queue.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp, ok := q.pods[key]; ok && qp.where == inFlight {
		delete(q.pods, key)
	}
}

// Counts returns the number of pods active, backing off and unschedulable.
func (q *Queue) Counts() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable)
}

// SchedulingCycle returns the number of Pops so far.
func (q *Queue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.cycle
}

// toActive puts qp in the active heap and wakes Pop; q.mu is held.
func (q *Queue) toActive(qp *QueuedPod) {
	qp.where = inActive
	q.active.push(qp)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// relevantChange reports whether a pod changed in a way that could change
// where it fits: its spec, labels or annotations.
func relevantChange(old, cur *corev1.Pod) bool {
	om, cm := old.GetMetadata(), cur.GetMetadata()
	return !proto.Equal(old.GetSpec(), cur.GetSpec()) ||
		!maps.Equal(om.GetLabels(), cm.GetLabels()) ||
		!maps.Equal(om.GetAnnotations(), cm.GetAnnotations())
}
