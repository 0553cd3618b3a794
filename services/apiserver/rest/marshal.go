package rest

import (
	"bytes"
	"fmt"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// marshaler is protojson with Kubernetes' conventions: camelCase JSON names,
// unset fields omitted, unknown fields rejected. It also undoes grpc-gateway's
// stream framing so that a watch is a sequence of Kubernetes watch events:
// the gateway hands each stream message over as {"result": msg}, written here
// as msg itself (a {"type", "object"} event), and a stream error as
// {"error": status}, written as {"type":"ERROR","object":<Status>}.
type marshaler struct {
	*runtime.JSONPb
}

func newMarshaler() *marshaler {
	return &marshaler{JSONPb: &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: false},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// Marshal writes v as JSON, unwrapping the gateway's stream envelopes.
func (m *marshaler) Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["result"]; ok && len(x) == 1 {
			return m.JSONPb.Marshal(r)
		}
	case map[string]proto.Message:
		if e, ok := x["error"].(*spb.Status); ok && len(x) == 1 {
			return m.errorEvent(e)
		}
	}
	b, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	if p, ok := v.(proto.Message); ok {
		return withItems(p, b), nil
	}
	return b, nil
}

// withItems adds "items":[] to the JSON of an empty list message: Kubernetes
// always writes it, and clients tell a list from an object by its presence.
func withItems(p proto.Message, b []byte) []byte {
	msg := p.ProtoReflect()
	fd := msg.Descriptor().Fields().ByName("items")
	if fd == nil || !fd.IsList() || msg.Get(fd).List().Len() > 0 {
		return b
	}
	b = bytes.TrimRight(b, " \n")
	if len(b) < 2 || b[len(b)-1] != '}' {
		return b
	}
	out := append([]byte(nil), b[:len(b)-1]...)
	if len(bytes.TrimSpace(out)) > 1 {
		out = append(out, ',')
	}
	return append(out, `"items":[]}`...)
}

// ContentType is application/json for objects and watch streams alike.
func (m *marshaler) ContentType(any) string { return "application/json" }

// errorEvent renders a stream error as a Kubernetes ERROR watch event.
func (m *marshaler) errorEvent(e *spb.Status) ([]byte, error) {
	obj, err := m.MarshalOptions.Marshal(apierr.StatusOf(status.FromProto(e)))
	if err != nil {
		return nil, fmt.Errorf("marshal watch error status: %w", err)
	}
	return fmt.Appendf(nil, `{"type":"ERROR","object":%s}`, obj), nil
}
