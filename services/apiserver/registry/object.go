package registry

import (
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Every kind's message has the fields api_version, kind and metadata, and
// most have spec and status: the registry reaches them through reflection so
// that one implementation serves every kind.

func field(m proto.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	return m.ProtoReflect().Descriptor().Fields().ByName(name)
}

// objectMeta returns the object's metadata, creating it when absent.
func objectMeta(obj proto.Message) *metav1.ObjectMeta {
	fd := field(obj, "metadata")
	return obj.ProtoReflect().Mutable(fd).Message().Interface().(*metav1.ObjectMeta)
}

// readMeta returns the object's metadata without ever writing to the object:
// for objects shared with the watch cache.
func readMeta(obj proto.Message) *metav1.ObjectMeta {
	return obj.(interface{ GetMetadata() *metav1.ObjectMeta }).GetMetadata()
}

// setTypeMeta fills apiVersion and kind.
func setTypeMeta(obj proto.Message, apiVersion, kind string) {
	r := obj.ProtoReflect()
	r.Set(field(obj, "api_version"), protoreflect.ValueOfString(apiVersion))
	r.Set(field(obj, "kind"), protoreflect.ValueOfString(kind))
}

// typeMeta returns the apiVersion and kind the object claims.
func typeMeta(obj proto.Message) (apiVersion, kind string) {
	r := obj.ProtoReflect()
	return r.Get(field(obj, "api_version")).String(), r.Get(field(obj, "kind")).String()
}

// part returns the spec or status of obj, or nil when unset or absent.
func part(obj proto.Message, name protoreflect.Name) proto.Message {
	fd := field(obj, name)
	if fd == nil || !obj.ProtoReflect().Has(fd) {
		return nil
	}
	return obj.ProtoReflect().Get(fd).Message().Interface()
}

// copyPart sets dst's spec or status to src's.
func copyPart(dst, src proto.Message, name protoreflect.Name) {
	fd := field(dst, name)
	if fd == nil {
		return
	}
	if src.ProtoReflect().Has(fd) {
		dst.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(proto.Clone(src.ProtoReflect().Get(fd).Message().Interface()).ProtoReflect()))
	} else {
		dst.ProtoReflect().Clear(fd)
	}
}

// hasField says whether the kind has a spec or status field.
func hasField(obj proto.Message, name protoreflect.Name) bool { return field(obj, name) != nil }

// now is the server's clock at second precision, as Kubernetes stores times.
func now() *timestamppb.Timestamp {
	return timestamppb.New(time.Now().Truncate(time.Second))
}
