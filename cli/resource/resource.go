// Package resource reaches any kind of the scheme over gRPC by name: every
// kind's service has the same verbs (Create, Get, List, Watch, Update,
// Delete), so one client invokes /tugboat.<group>.v1.<Kind>Service/<Verb>
// with the kind's messages. The command line uses it to treat pods, nodes
// and deployments alike; typed clients stay in client/clientset.
package resource

import (
	"context"
	"errors"
	"fmt"
	"io"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Client calls the verbs of one kind.
type Client struct {
	conn    grpc.ClientConnInterface
	Kind    scheme.Kind
	service string
}

// For returns the client of kind k over conn.
func For(conn grpc.ClientConnInterface, k scheme.Kind) *Client {
	return &Client{conn: conn, Kind: k, service: string(k.MessageName()) + "Service"}
}

func (c *Client) method(verb string) string { return "/" + c.service + "/" + verb }

// Get reads one object.
func (c *Client) Get(ctx context.Context, namespace, name string) (proto.Message, error) {
	out := c.Kind.New()
	err := c.conn.Invoke(ctx, c.method("Get"), &metav1.GetOptions{Namespace: c.ns(namespace), Name: name}, out)
	return out, err
}

// List reads the objects matching opts and returns them with the list's
// resourceVersion.
func (c *Client) List(ctx context.Context, opts *metav1.ListOptions) ([]proto.Message, string, error) {
	opts = proto.CloneOf(opts)
	opts.Namespace = c.ns(opts.GetNamespace())
	list := c.Kind.NewList()
	if err := c.conn.Invoke(ctx, c.method("List"), opts, list); err != nil {
		return nil, "", err
	}
	return Items(list), listVersion(list), nil
}

// Create writes a new object.
func (c *Client) Create(ctx context.Context, obj proto.Message) (proto.Message, error) {
	out := c.Kind.New()
	err := c.conn.Invoke(ctx, c.method("Create"), obj, out)
	return out, err
}

// Update replaces an object (compare-and-swap on its resourceVersion).
func (c *Client) Update(ctx context.Context, obj proto.Message) (proto.Message, error) {
	out := c.Kind.New()
	err := c.conn.Invoke(ctx, c.method("Update"), obj, out)
	return out, err
}

// Delete deletes one object; grace, when not nil, is its grace period.
func (c *Client) Delete(ctx context.Context, namespace, name string, grace *int32) (proto.Message, error) {
	out := c.Kind.New()
	err := c.conn.Invoke(ctx, c.method("Delete"), &metav1.DeleteOptions{Namespace: c.ns(namespace), Name: name, GracePeriodSeconds: grace}, out)
	return out, err
}

// Event is one change a watch reports.
type Event struct {
	Type   string // ADDED, MODIFIED, DELETED, BOOKMARK
	Object proto.Message
}

// Watch streams the changes of the objects matching opts; it returns when
// ctx ends (nil) or the stream fails.
func (c *Client) Watch(ctx context.Context, opts *metav1.ListOptions, fn func(Event) error) error {
	opts = proto.CloneOf(opts)
	opts.Namespace = c.ns(opts.GetNamespace())
	evType, err := protoregistry.GlobalTypes.FindMessageByName(c.Kind.MessageName() + "WatchEvent")
	if err != nil {
		return fmt.Errorf("watch %s: %w", c.Kind.Resource, err)
	}
	st, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, c.method("Watch"))
	if err != nil {
		return err
	}
	if err := st.SendMsg(opts); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for {
		ev := evType.New().Interface()
		if err := st.RecvMsg(ev); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		r := ev.ProtoReflect()
		fields := r.Descriptor().Fields()
		e := Event{Type: r.Get(fields.ByName("type")).String()}
		if fd := fields.ByName("object"); fd != nil && r.Has(fd) {
			e.Object = r.Get(fd).Message().Interface()
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// ns drops the namespace of a cluster-scoped kind.
func (c *Client) ns(namespace string) string {
	if !c.Kind.Namespaced {
		return ""
	}
	return namespace
}

// Items returns the items of a list message.
func Items(list proto.Message) []proto.Message {
	r := list.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("items")
	if fd == nil {
		return nil
	}
	l := r.Get(fd).List()
	out := make([]proto.Message, l.Len())
	for i := range out {
		out[i] = l.Get(i).Message().Interface()
	}
	return out
}

func listVersion(list proto.Message) string {
	r := list.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("metadata")
	if fd == nil || !r.Has(fd) {
		return ""
	}
	lm, _ := r.Get(fd).Message().Interface().(*metav1.ListMeta)
	return lm.GetResourceVersion()
}

// Meta returns obj's metadata, creating it when absent; changes to it change obj.
func Meta(obj proto.Message) *metav1.ObjectMeta {
	r := obj.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("metadata")
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return &metav1.ObjectMeta{}
	}
	m, ok := r.Mutable(fd).Message().Interface().(*metav1.ObjectMeta)
	if !ok {
		return &metav1.ObjectMeta{}
	}
	return m
}

// KindOf returns the scheme kind of obj.
func KindOf(obj proto.Message) (scheme.Kind, bool) { return scheme.ForMessage(obj) }
