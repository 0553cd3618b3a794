package record

import (
	"context"
	"errors"
	"sync"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

type sink struct {
	mu      sync.Mutex
	created []*corev1.Event
	updated []*corev1.Event
	failUpd bool
}

func (s *sink) Create(_ context.Context, e *corev1.Event, _ ...grpc.CallOption) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, proto.Clone(e).(*corev1.Event))
	return e, nil
}

func (s *sink) Update(_ context.Context, e *corev1.Event, _ ...grpc.CallOption) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failUpd {
		return nil, errors.New("gone")
	}
	s.updated = append(s.updated, proto.Clone(e).(*corev1.Event))
	return e, nil
}

func TestRepeatsBumpTheCount(t *testing.T) {
	s := &sink{}
	r := New(s, "kubelet", "node1", nil)
	pod := &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web", Uid: "u1"}
	r.Event(pod, Warning, "BackOff", "Back-off restarting failed container")
	r.Event(pod, Warning, "BackOff", "Back-off restarting failed container")
	r.Eventf(pod, Normal, "Started", "Started container %s", "c")
	r.Flush(context.Background())
	if len(s.created) != 2 || len(s.updated) != 1 {
		t.Fatalf("created %d, updated %d; want 2 and 1", len(s.created), len(s.updated))
	}
	if s.updated[0].GetCount() != 2 || s.updated[0].GetMetadata().GetName() != s.created[0].GetMetadata().GetName() {
		t.Errorf("repeat: %v", s.updated[0])
	}
	ev := s.created[1]
	if ev.GetMessage() != "Started container c" || ev.GetType() != Normal || ev.GetSource().GetHost() != "node1" || ev.GetMetadata().GetNamespace() != "ns" {
		t.Errorf("event %v", ev)
	}
}

func TestUpdateFailureStartsANewEvent(t *testing.T) {
	s := &sink{}
	r := New(s, "scheduler", "", nil)
	node := &corev1.ObjectReference{Kind: "Node", Name: "n1"}
	r.Event(node, Normal, "Registered", "x")
	r.Flush(context.Background())
	s.failUpd = true
	r.Event(node, Normal, "Registered", "x")
	r.Flush(context.Background())
	if len(s.created) != 2 {
		t.Fatalf("created %d, want a second Event after the update failed", len(s.created))
	}
	if s.created[0].GetMetadata().GetNamespace() != "default" {
		t.Errorf("a cluster-scoped object's Event is in %q, want default", s.created[0].GetMetadata().GetNamespace())
	}
}
