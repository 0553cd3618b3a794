package fake

import (
	"context"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
)

// service serves one kind's gRPC API from a Store. Its methods match the
// generated XServiceServer interfaces once instantiated with the kind's
// object, list and watch-event types.
type service[T Object, L any, E any] struct {
	store    *Store[T]
	newList  func([]T, *metav1.ListMeta) L
	newEvent func(string, T) *E
}

func (s *service[T, L, E]) Create(_ context.Context, obj T) (T, error) {
	return s.store.Create(obj)
}

func (s *service[T, L, E]) Get(_ context.Context, opts *metav1.GetOptions) (T, error) {
	return s.store.Get(opts.GetNamespace(), opts.GetName())
}

func (s *service[T, L, E]) List(_ context.Context, opts *metav1.ListOptions) (L, error) {
	items, meta, err := s.store.List(opts)
	if err != nil {
		var zero L
		return zero, err
	}
	return s.newList(items, meta), nil
}

func (s *service[T, L, E]) Watch(opts *metav1.ListOptions, stream grpc.ServerStreamingServer[E]) error {
	return s.store.Watch(stream.Context(), opts, func(typ string, obj T) error {
		return stream.Send(s.newEvent(typ, obj))
	})
}

func (s *service[T, L, E]) Update(_ context.Context, obj T) (T, error) {
	return s.store.Update(obj)
}

// UpdateStatus replaces the whole object: the fake keeps no status split.
func (s *service[T, L, E]) UpdateStatus(_ context.Context, obj T) (T, error) {
	return s.store.Update(obj)
}

func (s *service[T, L, E]) Delete(_ context.Context, opts *metav1.DeleteOptions) (T, error) {
	return s.store.Delete(opts.GetNamespace(), opts.GetName())
}
