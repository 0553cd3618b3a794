package registry

import (
	"strconv"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Stored is an object as the registry wrote it: the object (with its
// resourceVersion), and the bytes stored (without it) at revision rev.
type Stored struct {
	Object proto.Message
	data   []byte
	rev    int64
}

// resourceVersionField is ObjectMeta's resource_version field number.
var resourceVersionField = (&metav1.ObjectMeta{}).ProtoReflect().Descriptor().Fields().ByName("resource_version").Number()

// Wire returns a message of the object's kind that marshals to the stored
// bytes followed by the resourceVersion, without encoding the object again:
// a decoder merges the trailing metadata field into the object's metadata,
// so what a client reads is Object. The message is only for sending (its
// fields are unset; the bytes are its unknown fields). Without stored bytes
// it is Object itself.
func (s Stored) Wire() proto.Message {
	if s.data == nil {
		return s.Object
	}
	rv := strconv.FormatInt(s.rev, 10)
	meta := protowire.AppendTag(nil, resourceVersionField, protowire.BytesType)
	meta = protowire.AppendString(meta, rv)
	metaField := s.Object.ProtoReflect().Descriptor().Fields().ByName("metadata").Number()
	b := make([]byte, 0, len(s.data)+len(meta)+8)
	b = append(b, s.data...)
	b = protowire.AppendTag(b, metaField, protowire.BytesType)
	b = protowire.AppendBytes(b, meta)
	w := s.Object.ProtoReflect().Type().New()
	w.SetUnknown(protoreflect.RawFields(b))
	return w.Interface()
}
