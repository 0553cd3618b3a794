// Package record writes Events about objects (the reasons a user sees at the
// bottom of `describe`): asynchronous, so a control loop never waits on the
// apiserver for them, and aggregated, so a repeat of the same reason and
// message for one object bumps the count of one Event instead of adding
// another.
package record

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// Sink is the part of the Event client a Recorder needs.
type Sink interface {
	Create(ctx context.Context, in *corev1.Event, opts ...grpc.CallOption) (*corev1.Event, error)
	Update(ctx context.Context, in *corev1.Event, opts ...grpc.CallOption) (*corev1.Event, error)
}

// aggregateWindow is how long a repeat bumps an existing Event's count.
const aggregateWindow = 10 * time.Minute

// maxPending bounds the queue; Events beyond it are dropped (and logged).
const maxPending = 1024

// Recorder sends Events for one component. Create it with New and Run it.
type Recorder struct {
	sink      Sink
	source    *corev1.EventSource
	log       *zap.Logger
	queue     chan *corev1.Event
	seen      map[string]*corev1.Event
	lastPrune time.Time
	dropped   atomic.Int64
}

// New returns a Recorder reporting as component on host (the node name for
// a kubelet; empty for the control plane).
func New(sink Sink, component, host string, log *zap.Logger) *Recorder {
	if log == nil {
		log = zap.NewNop()
	}
	return &Recorder{
		sink:   sink,
		source: &corev1.EventSource{Component: component, Host: host},
		log:    log,
		queue:  make(chan *corev1.Event, maxPending),
		seen:   map[string]*corev1.Event{},
	}
}

// Event records an event about the object ref names. It never blocks.
func (r *Recorder) Event(ref *corev1.ObjectReference, typ, reason, message string) {
	now := timestamppb.Now()
	ns := ref.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	ev := &corev1.Event{
		ApiVersion:         "v1",
		Kind:               "Event",
		Metadata:           &metav1.ObjectMeta{Namespace: ns},
		InvolvedObject:     ref,
		Reason:             reason,
		Message:            message,
		Type:               typ,
		Source:             r.source,
		FirstTimestamp:     now,
		LastTimestamp:      now,
		Count:              1,
		ReportingComponent: r.source.Component,
		ReportingInstance:  r.source.Host,
	}
	select {
	case r.queue <- ev:
	default:
		// Logged once per 100 drops: a burst must not flood the log too.
		if n := r.dropped.Add(1); n%100 == 1 {
			r.log.Warn("events dropped: queue full", zap.Int64("dropped", n), zap.String("reason", reason), zap.String("object", ref.GetName()))
		}
	}
}

// Eventf is Event with a formatted message.
func (r *Recorder) Eventf(ref *corev1.ObjectReference, typ, reason, format string, args ...any) {
	r.Event(ref, typ, reason, fmt.Sprintf(format, args...))
}

// Run sends queued Events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.queue:
			r.send(ctx, ev)
		}
	}
}

// Flush sends what is queued now; for tests and shutdown.
func (r *Recorder) Flush(ctx context.Context) {
	for {
		select {
		case ev := <-r.queue:
			r.send(ctx, ev)
		default:
			return
		}
	}
}

func (r *Recorder) send(ctx context.Context, ev *corev1.Event) {
	key := ev.InvolvedObject.GetUid() + "/" + ev.InvolvedObject.GetNamespace() + "/" + ev.InvolvedObject.GetName() + "\x00" + ev.Type + "\x00" + ev.Reason + "\x00" + ev.Message
	r.prune(ev.LastTimestamp.AsTime())
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if prev, ok := r.seen[key]; ok {
		next := &corev1.Event{}
		*next = corev1.Event{
			ApiVersion: prev.ApiVersion, Kind: prev.Kind, Metadata: prev.Metadata, InvolvedObject: prev.InvolvedObject,
			Reason: prev.Reason, Message: prev.Message, Source: prev.Source, FirstTimestamp: prev.FirstTimestamp,
			LastTimestamp: ev.LastTimestamp, Count: prev.Count + 1, Type: prev.Type,
			ReportingComponent: prev.ReportingComponent, ReportingInstance: prev.ReportingInstance,
		}
		if out, err := r.sink.Update(cctx, next); err == nil {
			r.seen[key] = out
			return
		}
		// Gone or changed underneath: start a new Event.
		delete(r.seen, key)
	}
	ev.Metadata.Name = fmt.Sprintf("%s.%x", ev.InvolvedObject.GetName(), time.Now().UnixNano())
	out, err := r.sink.Create(cctx, ev)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		r.log.Warn("event not recorded", zap.String("reason", ev.Reason), zap.String("object", ev.InvolvedObject.GetName()), zap.Error(err))
		return
	}
	r.seen[key] = out
}

// prune forgets Events older than the aggregation window, once a minute.
func (r *Recorder) prune(now time.Time) {
	if now.Sub(r.lastPrune) < time.Minute {
		return
	}
	r.lastPrune = now
	for k, ev := range r.seen {
		if now.Sub(ev.GetLastTimestamp().AsTime()) > aggregateWindow {
			delete(r.seen, k)
		}
	}
}

// PodRef is the ObjectReference of a pod, for Events about it.
func PodRef(pod *corev1.Pod) *corev1.ObjectReference {
	m := pod.GetMetadata()
	return &corev1.ObjectReference{Kind: "Pod", ApiVersion: "v1", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion()}
}

// NodeRef is the ObjectReference of a node.
func NodeRef(node *corev1.Node) *corev1.ObjectReference {
	m := node.GetMetadata()
	return &corev1.ObjectReference{Kind: "Node", ApiVersion: "v1", Name: m.GetName(), Uid: m.GetUid()}
}
