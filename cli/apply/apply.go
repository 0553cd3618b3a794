package apply

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/client/retry"
	"github.com/tugboat-sh/tugboat/machinery/defaults"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The results kubectl apply reports.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
)

// Namespace places o in ns when it names none; it is an error when it
// names another and explicit says the user chose ns with -n.
func Namespace(o Object, ns string, explicit bool) error {
	m := resource.Meta(o.Obj)
	if !o.Kind.Namespaced {
		m.Namespace = ""
		return nil
	}
	switch {
	case m.GetNamespace() == "":
		m.Namespace = ns
	case explicit && m.GetNamespace() != ns:
		return fmt.Errorf("%s: document %d: the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation",
			o.Source, o.Doc, m.GetNamespace(), ns, m.GetNamespace())
	}
	return nil
}

// Create creates o.
func Create(ctx context.Context, conn grpc.ClientConnInterface, o Object) (proto.Message, error) {
	return resource.For(conn, o.Kind).Create(ctx, o.Obj)
}

// Apply creates o when it does not exist; otherwise it lays the fields
// o sets over the stored object and updates it when that changes
// anything. Map fields (labels, annotations, nodeSelector) are merged
// key by key, so labels added by tug label survive a re-apply; lists and
// scalars are replaced. Only fields the manifest sets are laid over: a
// field it leaves out (a Deployment's replicas after tug scale, say)
// keeps the stored value rather than going back to its default. Lists
// are taken defaulted, so a re-apply of the same list is unchanged.
func Apply(ctx context.Context, conn grpc.ClientConnInterface, o Object) (string, proto.Message, error) {
	c := resource.For(conn, o.Kind)
	m := resource.Meta(o.Obj)
	if m.GetName() == "" {
		out, err := c.Create(ctx, o.Obj)
		return Created, out, err
	}
	want := proto.Clone(o.Obj)
	defaults.Apply(want)
	// A controller that wrote the object since it was read (a
	// Deployment's revision, say) is a conflict: lay the manifest over
	// the newer object, as kubectl's patch would have.
	var (
		result string
		out    proto.Message
	)
	err := retry.OnConflict(func() error {
		var err error
		result, out, err = applyOnce(ctx, c, o, want)
		return err
	})
	return result, out, err
}

// applyOnce reads the stored object and updates it with want laid over
// (or creates it when it is gone).
func applyOnce(ctx context.Context, c *resource.Client, o Object, want proto.Message) (string, proto.Message, error) {
	m := resource.Meta(o.Obj)
	cur, err := c.Get(ctx, m.GetNamespace(), m.GetName())
	if status.Code(err) == codes.NotFound {
		out, err := c.Create(ctx, o.Obj)
		return Created, out, err
	}
	if err != nil {
		return "", nil, err
	}
	merged := proto.Clone(cur)
	overlay(merged.ProtoReflect(), want.ProtoReflect(), o.Obj.ProtoReflect())
	if proto.Equal(merged, cur) {
		return Unchanged, cur, nil
	}
	out, err := c.Update(ctx, merged)
	return Configured, out, err
}

// overlay sets on dst every field populated in set (the manifest as
// written), taking its value from src (the same manifest defaulted):
// messages recursively, maps key by key, everything else replaced.
// Status is the server's and is left alone.
func overlay(dst, src, set protoreflect.Message) {
	set.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		v := src.Get(fd)
		switch {
		case fd.Name() == "status" && dst.Descriptor().Fields().ByName("metadata") != nil:
		case fd.IsMap():
			dm := dst.Mutable(fd).Map()
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				dm.Set(k, mv)
				return true
			})
		case fd.IsList():
			dst.Set(fd, v)
		case fd.Message() != nil && !isWellKnown(fd.Message()):
			overlay(dst.Mutable(fd).Message(), v.Message(), set.Get(fd).Message())
		default:
			dst.Set(fd, v)
		}
		return true
	})
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}
