// Package server adapts the registry to the generated gRPC services: one
// generic handler serves the verbs of every kind, and services.go registers it
// once per kind.
package server

import (
	"context"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// handler implements Create, Get, List, Watch, Update, UpdateStatus and
// Delete for one kind. T is the object (*corev1.Pod), L its list
// (*corev1.PodList) and E its watch event (corev1.PodWatchEvent); with those
// types its methods match the generated <Kind>ServiceServer interface.
type handler[T proto.Message, L proto.Message, E any] struct {
	res *registry.Resource
}

func newHandler[T proto.Message, L proto.Message, E any](res *registry.Resource) *handler[T, L, E] {
	return &handler[T, L, E]{res: res}
}

func (h *handler[T, L, E]) Create(ctx context.Context, obj T) (T, error) {
	s, err := h.res.CreateStored(ctx, obj)
	if err != nil {
		var zero T
		return zero, err
	}
	// The answer is the stored bytes, not encoded a second time.
	return s.Wire().(T), nil
}

func (h *handler[T, L, E]) Get(ctx context.Context, opts *metav1.GetOptions) (T, error) {
	return typed[T](h.res.Get(ctx, opts))
}

func (h *handler[T, L, E]) Update(ctx context.Context, obj T) (T, error) {
	return typed[T](h.res.Update(ctx, obj))
}

func (h *handler[T, L, E]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	return typed[T](h.res.UpdateStatus(ctx, obj))
}

func (h *handler[T, L, E]) Delete(ctx context.Context, opts *metav1.DeleteOptions) (T, error) {
	return typed[T](h.res.Delete(ctx, opts))
}

func (h *handler[T, L, E]) List(ctx context.Context, opts *metav1.ListOptions) (L, error) {
	var zero L
	list, err := h.res.List(ctx, opts)
	if err != nil {
		return zero, err
	}
	out := h.res.Kind.NewList()
	r := out.ProtoReflect()
	fields := r.Descriptor().Fields()
	r.Set(fields.ByName("api_version"), protoreflect.ValueOfString(h.res.Kind.APIVersion()))
	r.Set(fields.ByName("kind"), protoreflect.ValueOfString(h.res.Kind.ListKind()))
	r.Set(fields.ByName("metadata"), protoreflect.ValueOfMessage(list.Meta.ProtoReflect()))
	items := r.Mutable(fields.ByName("items")).List()
	for _, item := range list.Items {
		items.Append(protoreflect.ValueOfMessage(item.ProtoReflect()))
	}
	return out.(L), nil
}

func (h *handler[T, L, E]) Watch(opts *metav1.ListOptions, stream grpc.ServerStreamingServer[E]) error {
	return h.res.Watch(stream.Context(), opts, func(eventType string, obj proto.Message) error {
		ev := new(E)
		r := any(ev).(proto.Message).ProtoReflect()
		fields := r.Descriptor().Fields()
		r.Set(fields.ByName("type"), protoreflect.ValueOfString(eventType))
		r.Set(fields.ByName("object"), protoreflect.ValueOfMessage(obj.ProtoReflect()))
		return stream.Send(ev)
	}, func() error { return stream.SendHeader(nil) })
}

// typed converts the registry's proto.Message result to the kind's type.
func typed[T proto.Message](obj proto.Message, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	return obj.(T), nil
}
