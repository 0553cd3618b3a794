package event

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// events is an in-memory event store behind the client interface; only
// Create and Update are served.
type events struct {
	corev1.EventServiceClient
	mu    sync.Mutex
	byKey map[string]*corev1.Event
}

func (e *events) Create(_ context.Context, ev *corev1.Event, _ ...grpc.CallOption) (*corev1.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := ev.GetMetadata().GetNamespace() + "/" + ev.GetMetadata().GetName()
	if _, ok := e.byKey[k]; ok {
		return nil, status.Error(codes.AlreadyExists, k)
	}
	e.byKey[k] = proto.Clone(ev).(*corev1.Event)
	return ev, nil
}

func (e *events) Update(_ context.Context, ev *corev1.Event, _ ...grpc.CallOption) (*corev1.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := ev.GetMetadata().GetNamespace() + "/" + ev.GetMetadata().GetName()
	if _, ok := e.byKey[k]; !ok {
		return nil, status.Error(codes.NotFound, k)
	}
	e.byKey[k] = proto.Clone(ev).(*corev1.Event)
	return ev, nil
}

func (e *events) list() []*corev1.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*corev1.Event
	for _, ev := range e.byKey {
		out = append(out, ev)
	}
	return out
}

// waitFor polls the store until cond holds.
func waitFor(t *testing.T, store *events, what string, cond func([]*corev1.Event) bool) []*corev1.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := store.list()
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s; events: %v", what, evs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventAboutAPod(t *testing.T) {
	store := &events{byKey: map[string]*corev1.Event{}}
	r := New(store, "default-scheduler", "host-1", zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	pod := f.Pod("ns", "web")
	r.Eventf(pod, Normal, "Scheduled", "Successfully assigned %s to %s", "ns/web", "node-1")
	evs := waitFor(t, store, "one event", func(evs []*corev1.Event) bool { return len(evs) == 1 })
	ev := evs[0]
	io := ev.GetInvolvedObject()
	if ev.GetMetadata().GetNamespace() != "ns" || io.GetKind() != "Pod" || io.GetName() != "web" || io.GetUid() != pod.Metadata.Uid ||
		ev.GetType() != Normal || ev.GetReason() != "Scheduled" || ev.GetMessage() != "Successfully assigned ns/web to node-1" ||
		ev.GetSource().GetComponent() != "default-scheduler" || ev.GetReportingComponent() != "default-scheduler" ||
		ev.GetReportingInstance() != "host-1" || ev.GetCount() != 1 {
		t.Fatalf("event = %v", ev)
	}
}

func TestRepeatedEventBumpsTheCount(t *testing.T) {
	store := &events{byKey: map[string]*corev1.Event{}}
	r := New(store, "default-scheduler", "host-1", zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	pod := f.Pod("ns", "web")
	r.Eventf(pod, Warning, "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
	waitFor(t, store, "the first event", func(evs []*corev1.Event) bool { return len(evs) == 1 })
	r.Eventf(pod, Warning, "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
	waitFor(t, store, "the event's count to be 2", func(evs []*corev1.Event) bool { return len(evs) == 1 && evs[0].GetCount() == 2 })

	r.Eventf(pod, Warning, "FailedScheduling", "0/2 nodes are available: 2 Insufficient cpu.")
	waitFor(t, store, "a second event for a new message", func(evs []*corev1.Event) bool { return len(evs) == 2 })
}

func TestEventfNeverBlocks(t *testing.T) {
	r := New(&events{byKey: map[string]*corev1.Event{}}, "default-scheduler", "host-1", zap.NewNop())
	done := make(chan struct{})
	go func() {
		// Nothing runs the recorder: past the queue's size events are dropped.
		for range queueSize + 10 {
			r.Eventf(f.Pod("ns", "p"), Normal, "Scheduled", "x")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Eventf blocked with a full queue")
	}
}

func TestEventNameIsBounded(t *testing.T) {
	long := string(make([]byte, 253))
	if n := eventName(long, time.Unix(1, 0)); len(n) != 253 {
		t.Fatalf("event name of %d characters, want 253", len(n))
	}
	if n := eventName("web", time.Unix(0, 255)); n != "web.ff" {
		t.Fatalf("eventName = %q, want web.ff", n)
	}
}
