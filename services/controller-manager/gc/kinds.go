package gc

import (
	"context"
	"strings"

	"github.com/tugboat-sh/tugboat/client/informer"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Kind is one kind of object the collector follows: its informer for the
// cache and its client for updates and deletes.
type Kind struct {
	APIVersion, Kind string
	// get reads the cache; update writes metadata changes made by fn to a
	// copy of the cached object; del deletes; live reads the apiserver.
	get    func(namespace, name string) (*metav1.ObjectMeta, bool)
	update func(ctx context.Context, namespace, name string, fn func(*metav1.ObjectMeta)) error
	del    func(ctx context.Context, opts *metav1.DeleteOptions) error
	live   func(ctx context.Context, namespace, name string) (*metav1.ObjectMeta, error)
	attach func(func(added, deleted bool, m *metav1.ObjectMeta))
}

// Client is the part of a generated client the collector uses.
type Client[T informer.Object] interface {
	Get(ctx context.Context, in *metav1.GetOptions, opts ...grpc.CallOption) (T, error)
	Update(ctx context.Context, in T, opts ...grpc.CallOption) (T, error)
	Delete(ctx context.Context, in *metav1.DeleteOptions, opts ...grpc.CallOption) (T, error)
}

// NewKind describes a kind for the collector.
func NewKind[T informer.Object](apiVersion, kind string, inf *informer.Informer[T], client Client[T]) Kind {
	l := inf.Lister()
	return Kind{
		APIVersion: apiVersion, Kind: kind,
		get: func(ns, name string) (*metav1.ObjectMeta, bool) {
			o, ok := l.Get(ns, name)
			if !ok {
				return nil, false
			}
			return o.GetMetadata(), true
		},
		update: func(ctx context.Context, ns, name string, fn func(*metav1.ObjectMeta)) error {
			o, ok := l.Get(ns, name)
			if !ok {
				return nil
			}
			next := proto.Clone(o).(T)
			fn(next.GetMetadata())
			_, err := client.Update(ctx, next)
			return err
		},
		del: func(ctx context.Context, opts *metav1.DeleteOptions) error {
			_, err := client.Delete(ctx, opts)
			return err
		},
		live: func(ctx context.Context, ns, name string) (*metav1.ObjectMeta, error) {
			o, err := client.Get(ctx, &metav1.GetOptions{Namespace: ns, Name: name})
			if err != nil {
				return nil, err
			}
			return o.GetMetadata(), nil
		},
		attach: func(fn func(added, deleted bool, m *metav1.ObjectMeta)) {
			inf.AddHandler(informer.HandlerFuncs[T]{
				AddFunc:    func(o T) { fn(true, false, o.GetMetadata()) },
				UpdateFunc: func(_, o T) { fn(false, false, o.GetMetadata()) },
				DeleteFunc: func(o T) { fn(false, true, o.GetMetadata()) },
			})
		},
	}
}

// group is the API group of an apiVersion ("" for "v1").
func group(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}
