// Package event records Kubernetes Events about pods (FailedScheduling,
// Scheduled) through the apiserver, off the caller's path: events are
// queued and written by a few workers, and dropped when the queue is full
// rather than slowing scheduling down. An event repeating the last one
// about the same pod (same type, reason and message) bumps that Event's
// count and lastTimestamp instead of creating another, as client-go's
// event correlator does.
package event

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

const (
	queueSize = 1000
	workers   = 4
	// maxRemembered bounds the events kept for correlation; past it they
	// are forgotten all at once.
	maxRemembered = 4096
	writeTimeout  = 10 * time.Second
)

// Recorder writes events. Create it with New and Run it.
type Recorder struct {
	client    corev1.EventServiceClient
	component string
	instance  string
	log       *zap.Logger
	queue     chan *corev1.Event
	now       func() time.Time

	mu   sync.Mutex
	last map[string]*corev1.Event // by involved object uid: the last event written
}

// New returns a recorder writing through client as component (the
// reportingComponent and source), from instance (the host).
func New(client corev1.EventServiceClient, component, instance string, log *zap.Logger) *Recorder {
	return &Recorder{
		client: client, component: component, instance: instance, log: log,
		queue: make(chan *corev1.Event, queueSize),
		now:   time.Now,
		last:  map[string]*corev1.Event{},
	}
}

// Eventf queues an event about pod; it never blocks.
func (r *Recorder) Eventf(pod *corev1.Pod, typ, reason, format string, args ...any) {
	m := pod.GetMetadata()
	now := timestamppb.New(r.now())
	ev := &corev1.Event{
		ApiVersion: "v1",
		Kind:       "Event",
		Metadata:   &metav1.ObjectMeta{Namespace: m.GetNamespace(), Name: eventName(m.GetName(), r.now())},
		InvolvedObject: &corev1.ObjectReference{
			Kind: "Pod", ApiVersion: "v1", Namespace: m.GetNamespace(), Name: m.GetName(),
			Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion(),
		},
		Reason:             reason,
		Message:            fmt.Sprintf(format, args...),
		Source:             &corev1.EventSource{Component: r.component, Host: r.instance},
		FirstTimestamp:     now,
		LastTimestamp:      now,
		Count:              1,
		Type:               typ,
		Action:             "Scheduling",
		ReportingComponent: r.component,
		ReportingInstance:  r.instance,
	}
	select {
	case r.queue <- ev:
	default:
		r.log.Warn("event dropped: queue full", zap.String("pod", m.GetNamespace()+"/"+m.GetName()), zap.String("reason", reason))
	}
}

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.queue:
					r.write(ctx, ev)
				}
			}
		})
	}
	wg.Wait()
}

// write creates ev, or updates the previous event about the same object
// when ev repeats it.
func (r *Recorder) write(ctx context.Context, ev *corev1.Event) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	uid := ev.GetInvolvedObject().GetUid()
	if prev := r.repeated(uid, ev); prev != nil {
		next := proto.Clone(prev).(*corev1.Event)
		next.Count++
		next.LastTimestamp = ev.LastTimestamp
		next.Metadata.ResourceVersion = ""
		updated, err := r.client.Update(ctx, next)
		if err == nil {
			r.remember(uid, updated)
			return
		}
		if status.Code(err) != codes.NotFound {
			r.log.Warn("event update failed", zap.String("event", ev.GetMetadata().GetName()), zap.Error(err))
			return
		}
	}
	created, err := r.client.Create(ctx, ev)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("event create failed", zap.String("reason", ev.GetReason()), zap.Error(err))
		}
		return
	}
	r.remember(uid, created)
}

// repeated returns the last event about uid if ev repeats it.
func (r *Recorder) repeated(uid string, ev *corev1.Event) *corev1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.last[uid]
	if prev == nil || prev.GetType() != ev.GetType() || prev.GetReason() != ev.GetReason() || prev.GetMessage() != ev.GetMessage() {
		return nil
	}
	return prev
}

func (r *Recorder) remember(uid string, ev *corev1.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.last) >= maxRemembered {
		clear(r.last)
	}
	r.last[uid] = ev
}

// eventName is Kubernetes' "<object>.<unix nanoseconds in hex>", the
// object's name shortened to keep within 253 characters.
func eventName(object string, t time.Time) string {
	suffix := fmt.Sprintf(".%x", t.UnixNano())
	if len(object)+len(suffix) > 253 {
		object = object[:253-len(suffix)]
	}
	return object + suffix
}
