package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
	"google.golang.org/protobuf/proto"
)

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newQueue() (*Queue, *clock) {
	c := &clock{now: time.Unix(1000, 0)}
	return New(Options{Now: c.Now}), c
}

// pop takes the next active pod, failing if there is none.
func pop(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: no active pod (%v)", err)
	}
	return qp
}

// expectEmpty fails if a pod is active.
func expectEmpty(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if qp, err := q.Pop(ctx); err == nil {
		t.Fatalf("Pop returned %s, want no active pod", qp.Key)
	}
}

func expectCounts(t *testing.T, q *Queue, active, backoff, unschedulable int) {
	t.Helper()
	a, b, u := q.Counts()
	if a != active || b != backoff || u != unschedulable {
		t.Fatalf("Counts = %d active, %d backoff, %d unschedulable; want %d, %d, %d", a, b, u, active, backoff, unschedulable)
	}
}

func TestPriorityThenFIFO(t *testing.T) {
	q, c := newQueue()
	for _, p := range []*corev1.Pod{
		f.Pod("ns", "low-1"), f.Pod("ns", "high-1", f.Priority(100)), f.Pod("ns", "low-2"),
		f.Pod("ns", "high-2", f.Priority(100)), f.Pod("ns", "mid", f.Priority(10)),
	} {
		q.Add(p)
		c.advance(time.Millisecond)
	}
	for _, want := range []string{"ns/high-1", "ns/high-2", "ns/mid", "ns/low-1", "ns/low-2"} {
		if got := pop(t, q).Key; got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
}

func TestAddTwiceQueuesOnce(t *testing.T) {
	q, _ := newQueue()
	q.Add(f.Pod("ns", "p"))
	q.Add(f.Pod("ns", "p"))
	expectCounts(t, q, 1, 0, 0)
}

func TestBackoffDoublesToTheMaximum(t *testing.T) {
	q, _ := newQueue()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := q.BackoffDuration(i + 1); got != w {
			t.Errorf("BackoffDuration(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestBackoffDelaysTheRetry(t *testing.T) {
	q, c := newQueue()
	q.Add(f.Pod("ns", "p"))
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		qp := pop(t, q)
		if qp.Attempts != attempt+1 {
			t.Fatalf("Attempts = %d, want %d", qp.Attempts, attempt+1)
		}
		q.Backoff(qp)
		expectCounts(t, q, 0, 1, 0)
		c.advance(wait - time.Millisecond)
		q.Flush()
		expectEmpty(t, q)
		c.advance(time.Millisecond)
		q.Flush()
		expectCounts(t, q, 1, 0, 0)
	}
}

func TestUnschedulableWaitsForAClusterEvent(t *testing.T) {
	q, c := newQueue()
	q.Add(f.Pod("ns", "p"))
	q.Unschedulable(pop(t, q))
	expectCounts(t, q, 0, 0, 1)
	c.advance(30 * time.Second)
	q.Flush()
	expectEmpty(t, q)

	q.MoveAllToActiveOrBackoff()
	expectCounts(t, q, 1, 0, 0)
	if qp := pop(t, q); qp.Attempts != 2 {
		t.Fatalf("Attempts = %d, want 2", qp.Attempts)
	}
}

func TestClusterEventDuringBackoffWaitsItOut(t *testing.T) {
	q, c := newQueue()
	q.Add(f.Pod("ns", "p"))
	q.Unschedulable(pop(t, q))
	c.advance(500 * time.Millisecond)
	q.MoveAllToActiveOrBackoff()
	expectCounts(t, q, 0, 1, 0)
	c.advance(500 * time.Millisecond)
	q.Flush()
	expectCounts(t, q, 1, 0, 0)
}

func TestUnschedulableTimeout(t *testing.T) {
	q, c := newQueue()
	q.Add(f.Pod("ns", "p"))
	q.Unschedulable(pop(t, q))
	c.advance(59 * time.Second)
	q.Flush()
	expectCounts(t, q, 0, 0, 1)
	c.advance(time.Second)
	q.Flush()
	expectCounts(t, q, 1, 0, 0)
}

func TestClusterEventDuringTheAttemptRetries(t *testing.T) {
	q, c := newQueue()
	q.Add(f.Pod("ns", "p"))
	qp := pop(t, q)
	q.MoveAllToActiveOrBackoff() // a node was added while the pod was being scheduled
	q.Unschedulable(qp)
	expectCounts(t, q, 0, 1, 0)
	c.advance(time.Second)
	q.Flush()
	expectCounts(t, q, 1, 0, 0)

	// An event before the next attempt started does not count for it.
	q.Unschedulable(pop(t, q))
	expectCounts(t, q, 0, 0, 1)
}

func TestUpdateOfAnUnschedulablePod(t *testing.T) {
	q, c := newQueue()
	pod := f.Pod("ns", "p")
	q.Add(pod)
	q.Unschedulable(pop(t, q))
	c.advance(2 * time.Second)

	withCondition := proto.Clone(pod).(*corev1.Pod)
	withCondition.Status.Conditions = []*corev1.PodCondition{{Type: "PodScheduled", Status: "False", Reason: "Unschedulable"}}
	q.Update(withCondition)
	expectCounts(t, q, 0, 0, 1)

	tolerating := proto.Clone(withCondition).(*corev1.Pod)
	tolerating.Spec.Tolerations = []*corev1.Toleration{{Key: "k", Operator: "Exists"}}
	q.Update(tolerating)
	expectCounts(t, q, 1, 0, 0)
	if got := pop(t, q).Pod; !proto.Equal(got, tolerating) {
		t.Fatal("popped pod is not the updated one")
	}
}

func TestUpdateDuringTheAttemptRetries(t *testing.T) {
	q, _ := newQueue()
	pod := f.Pod("ns", "p")
	q.Add(pod)
	qp := pop(t, q)
	labelled := proto.Clone(pod).(*corev1.Pod)
	labelled.Metadata.Labels = map[string]string{"a": "b"}
	q.Update(labelled)
	q.Unschedulable(qp)
	expectCounts(t, q, 0, 1, 0)
}

func TestDelete(t *testing.T) {
	q, c := newQueue()
	a, b, u := f.Pod("ns", "a"), f.Pod("ns", "b"), f.Pod("ns", "u")
	q.Add(u)
	q.Unschedulable(pop(t, q))
	q.Add(b)
	q.Backoff(pop(t, q))
	q.Add(a)
	expectCounts(t, q, 1, 1, 1)
	q.Delete(a)
	q.Delete(b)
	q.Delete(u)
	expectCounts(t, q, 0, 0, 0)
	c.advance(time.Minute)
	q.Flush()
	expectEmpty(t, q)
}

func TestDeletedOrBoundDuringTheAttemptIsDropped(t *testing.T) {
	q, _ := newQueue()
	q.Add(f.Pod("ns", "p"))
	qp := pop(t, q)
	q.Delete(qp.Pod)
	q.Unschedulable(qp)
	q.Backoff(qp)
	expectCounts(t, q, 0, 0, 0)
}

func TestDoneForgetsThePod(t *testing.T) {
	q, _ := newQueue()
	pod := f.Pod("ns", "p")
	q.Add(pod)
	qp := pop(t, q)
	q.Done(qp.Key)
	q.Backoff(qp) // a late failure report of a finished attempt is ignored
	expectCounts(t, q, 0, 0, 0)
	q.Add(pod)
	if qp := pop(t, q); qp.Attempts != 1 {
		t.Fatalf("a pod added again after Done has %d attempts, want a fresh 1", qp.Attempts)
	}
}

func TestPopWaitsForAnAdd(t *testing.T) {
	q, _ := newQueue()
	got := make(chan string, 1)
	go func() {
		qp, err := q.Pop(context.Background())
		if err == nil {
			got <- qp.Key
		}
	}()
	q.Add(f.Pod("ns", "p"))
	select {
	case k := <-got:
		if k != "ns/p" {
			t.Fatalf("Pop = %s", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop did not return after Add")
	}
}

func TestRunFlushesBackoff(t *testing.T) {
	q := New(Options{InitialBackoff: time.Millisecond, FlushInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	q.Add(f.Pod("ns", "p"))
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q.Backoff(qp)
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	if _, err := q.Pop(pctx); err != nil {
		t.Fatalf("the pod did not come back from backoff: %v", err)
	}
}
